//! With the `serde` feature, an [`Event`] serialises as the object of its JSON line (the same
//! keys, in the same order), the [`Header`] as the header line's object, and a [`Trace`] as
//! the sequence of its lines' objects: the header, then the events.

use serde::ser::{SerializeSeq, SerializeStruct};
use serde::{Serialize, Serializer};

use super::write::nanos;
use super::{profile_name, Argument, Event, Header, HostInfo, Packet, Trace, TRACE_FORMAT_VERSION};

impl Serialize for Header {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut st = s.serialize_struct("Header", 7)?;
        st.serialize_field("kind", "header")?;
        st.serialize_field("format", "ws2sim-trace")?;
        st.serialize_field("version", &TRACE_FORMAT_VERSION)?;
        st.serialize_field("seed", &self.seed)?;
        st.serialize_field("profile", profile_name(self.profile))?;
        st.serialize_field("scheduler", &self.scheduler)?;
        st.serialize_field("hosts", &self.hosts)?;
        st.end()
    }
}

impl Serialize for HostInfo {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut st = s.serialize_struct("HostInfo", 2)?;
        st.serialize_field("name", &self.name)?;
        st.serialize_field("addr", &self.addr.to_string())?;
        st.end()
    }
}

impl Serialize for Packet {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut st = s.serialize_struct("Packet", 6)?;
        st.serialize_field("kind", self.kind.name())?;
        st.serialize_field("bytes", &self.bytes)?;
        st.serialize_field("from", &self.from.map(|a| a.to_string()))?;
        st.serialize_field("to_host", &self.to_host)?;
        st.serialize_field("to", &self.to.map(|a| a.to_string()))?;
        st.serialize_field("arrives_ns", &nanos(self.arrives))?;
        st.end()
    }
}

impl Serialize for Argument {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut st = s.serialize_struct("Argument", 2)?;
        st.serialize_field("name", &self.name)?;
        st.serialize_field("value", &self.value)?;
        st.end()
    }
}

impl Serialize for Event {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut st = s.serialize_struct("Event", 17)?;
        st.serialize_field("kind", self.kind.name())?;
        st.serialize_field("seq", &self.seq)?;
        st.serialize_field("time_ns", &nanos(self.time))?;
        st.serialize_field("host", &self.host)?;
        st.serialize_field("process", &self.process)?;
        st.serialize_field("pid", &self.pid)?;
        st.serialize_field("thread", &self.thread)?;
        st.serialize_field("call", &self.call)?;
        st.serialize_field("args", &self.args)?;
        st.serialize_field("arguments", &self.arguments)?;
        st.serialize_field("result", &self.result)?;
        st.serialize_field("returned", &self.returned)?;
        st.serialize_field("error", &self.error.map(|e| e.name()))?;
        st.serialize_field("error_code", &self.error.map(|e| e.code()))?;
        let rules: Vec<&str> = self.rules.iter().map(|r| r.id()).collect();
        st.serialize_field("rules", &rules)?;
        st.serialize_field("blocked_ns", &nanos(self.blocked))?;
        match &self.packet {
            Some(p) => st.serialize_field("packet", p)?,
            None => st.skip_field("packet")?,
        }
        st.end()
    }
}

impl Serialize for Trace {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut seq = s.serialize_seq(Some(1 + self.events.len()))?;
        seq.serialize_element(&self.header)?;
        for e in &self.events {
            seq.serialize_element(e)?;
        }
        seq.end()
    }
}
