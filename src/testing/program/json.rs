//! A [`Program`]'s JSON form: one object with the format's name and version, the order, the
//! processes and the steps (one per line), each step's op flattened into it:
//!
//! ```text
//! {"format":"ws2sim-program","version":1,"order":"Sequential",
//!  "processes":[{"name":"app","host":"localhost"}],
//!  "steps":[
//!   {"process":0,"thread":0,"op":"Startup","version":514},
//!   {"process":0,"thread":0,"op":"Close","socket":{"Slot":0}}
//!  ]}
//! ```
//!
//! Written and read by hand with the trace's JSON reader, like the trace itself: the library
//! needs no JSON dependency. Unknown keys and ops are errors, so a misspelt file is not
//! silently a different program.

use super::{Handle, Op, Order, ProcessSpec, Program, ProgramError, Step};
use crate::trace::read::{int, parse, Fields, Value};
use crate::trace::write::json_string;

/// The `format` key's value.
const FORMAT: &str = "ws2sim-program";
/// The version this build writes and reads.
const VERSION: i128 = 1;

/// A field type of [`Op`] and its JSON value.
pub(super) trait Field: Sized {
    fn to_json(&self) -> Value;
    fn from_json(v: Value, key: &str) -> Result<Self, String>;
}

macro_rules! int_field {
    ($($t:ty),*) => {$(
        impl Field for $t {
            fn to_json(&self) -> Value {
                Value::Int(i128::from(*self))
            }
            fn from_json(v: Value, key: &str) -> Result<Self, String> {
                int(v, key)
            }
        }
    )*};
}

int_field!(u8, u16, u32, i32, u64);

impl Field for usize {
    fn to_json(&self) -> Value {
        Value::Int(*self as i128)
    }
    fn from_json(v: Value, key: &str) -> Result<Self, String> {
        int(v, key)
    }
}

impl Field for bool {
    fn to_json(&self) -> Value {
        Value::Bool(*self)
    }
    fn from_json(v: Value, key: &str) -> Result<Self, String> {
        match v {
            Value::Bool(b) => Ok(b),
            v => Err(format!("{key:?} is not true or false: {v:?}")),
        }
    }
}

impl Field for Option<i32> {
    fn to_json(&self) -> Value {
        self.map_or(Value::Null, |n| Value::Int(i128::from(n)))
    }
    fn from_json(v: Value, key: &str) -> Result<Self, String> {
        match v {
            Value::Null => Ok(None),
            v => int(v, key).map(Some),
        }
    }
}

impl Field for Vec<u8> {
    fn to_json(&self) -> Value {
        Value::Arr(self.iter().map(|b| Value::Int(i128::from(*b))).collect())
    }
    fn from_json(v: Value, key: &str) -> Result<Self, String> {
        match v {
            Value::Arr(items) => items.into_iter().map(|b| int(b, key)).collect(),
            v => Err(format!("{key:?} is not an array of bytes: {v:?}")),
        }
    }
}

impl Field for Handle {
    fn to_json(&self) -> Value {
        let (k, n) = match *self {
            Handle::Slot(s) => ("Slot", i128::from(s)),
            Handle::Seen(i) => ("Seen", i128::from(i)),
            Handle::Raw(v) => ("Raw", i128::from(v)),
        };
        Value::Obj(vec![(k.to_owned(), Value::Int(n))])
    }
    fn from_json(v: Value, key: &str) -> Result<Self, String> {
        let Value::Obj(mut f) = v else {
            return Err(format!("{key:?} is not a handle object: {v:?}"));
        };
        let (Some((k, n)), true) = (f.pop(), f.is_empty()) else {
            return Err(format!("{key:?}: a handle has one key (Slot, Seen or Raw)"));
        };
        match k.as_str() {
            "Slot" => int(n, key).map(Handle::Slot),
            "Seen" => int(n, key).map(Handle::Seen),
            "Raw" => int(n, key).map(Handle::Raw),
            other => Err(format!("{key:?}: unknown handle kind {other:?}")),
        }
    }
}

/// Writes `v` compactly (objects and arrays of the shapes above).
fn write_value(out: &mut String, v: &Value) {
    match v {
        Value::Null => out.push_str("null"),
        Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Value::Int(n) => out.push_str(&n.to_string()),
        Value::Str(s) => json_string(out, s),
        Value::Arr(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_value(out, item);
            }
            out.push(']');
        }
        Value::Obj(fields) => {
            out.push('{');
            for (i, (k, item)) in fields.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                json_string(out, k);
                out.push(':');
                write_value(out, item);
            }
            out.push('}');
        }
    }
}

fn order_name(o: Order) -> &'static str {
    match o {
        Order::Sequential => "Sequential",
        Order::Concurrent => "Concurrent",
    }
}

fn step_value(s: &Step) -> Value {
    let mut fields = vec![
        ("process".to_owned(), s.process.to_json()),
        ("thread".to_owned(), s.thread.to_json()),
        ("op".to_owned(), Value::Str(s.op.name().to_owned())),
    ];
    fields.extend(s.op.fields().into_iter().map(|(k, v)| (k.to_owned(), v)));
    Value::Obj(fields)
}

impl Program {
    /// The program as JSON text (the format [`Program::from_json`] reads), one step per line.
    pub fn to_json(&self) -> String {
        let mut out = format!("{{\"format\":\"{FORMAT}\",\"version\":{VERSION},\"order\":");
        json_string(&mut out, order_name(self.order));
        out.push_str(",\n \"processes\":");
        let procs = self
            .processes
            .iter()
            .map(|p| {
                Value::Obj(vec![
                    ("name".to_owned(), Value::Str(p.name.clone())),
                    ("host".to_owned(), Value::Str(p.host.clone())),
                ])
            })
            .collect();
        write_value(&mut out, &Value::Arr(procs));
        out.push_str(",\n \"steps\":[");
        for (i, s) in self.steps.iter().enumerate() {
            out.push_str(if i == 0 { "\n  " } else { ",\n  " });
            write_value(&mut out, &step_value(s));
        }
        out.push_str("\n ]}\n");
        out
    }

    /// Reads a program [`Program::to_json`] wrote (or a person, in that format), and checks
    /// it ([`Program::validate`]).
    ///
    /// # Errors
    /// Text that is not JSON, a missing or unknown key, an unknown op, a value of the wrong
    /// type or out of range, another format or version, or a program that does not validate.
    pub fn from_json(text: &str) -> Result<Program, ProgramError> {
        let v = parse(text).map_err(ProgramError)?;
        let p = program(v).map_err(ProgramError)?;
        p.validate()?;
        Ok(p)
    }
}

fn program(v: Value) -> Result<Program, String> {
    let mut f = Fields::of(v, "a program")?;
    let format = f.string("format")?;
    if format != FORMAT {
        return Err(format!("format {format:?} is not {FORMAT:?}"));
    }
    let version: i128 = f.int("version")?;
    if version != VERSION {
        return Err(format!(
            "version {version}: this build reads version {VERSION}"
        ));
    }
    let order = match f.string("order")?.as_str() {
        "Sequential" => Order::Sequential,
        "Concurrent" => Order::Concurrent,
        other => return Err(format!("unknown order {other:?}")),
    };
    let processes = array(f.take("processes")?, "processes")?
        .into_iter()
        .map(|p| {
            let mut f = Fields::of(p, "a process")?;
            let spec = ProcessSpec {
                name: f.string("name")?,
                host: f.string("host")?,
            };
            f.done().map(|()| spec)
        })
        .collect::<Result<_, String>>()?;
    let steps = array(f.take("steps")?, "steps")?
        .into_iter()
        .enumerate()
        .map(|(i, s)| step(s).map_err(|e| format!("step {i}: {e}")))
        .collect::<Result<_, String>>()?;
    f.done()?;
    Ok(Program {
        order,
        processes,
        steps,
    })
}

fn array(v: Value, key: &str) -> Result<Vec<Value>, String> {
    match v {
        Value::Arr(items) => Ok(items),
        v => Err(format!("{key:?} is not an array: {v:?}")),
    }
}

fn step(v: Value) -> Result<Step, String> {
    let mut f = Fields::of(v, "a step")?;
    let process = f.int("process")?;
    let thread = f.int("thread")?;
    let name = f.string("op")?;
    let op = Op::from_fields(&name, &mut f)?;
    f.done()?;
    Ok(Step {
        process,
        thread,
        op,
    })
}
