#!/usr/bin/env python3
"""Writes src/Win32.rs, src/core.rs and the [features] of Cargo.toml from windows-sys' source.

For every public function, constant, struct, union and type alias of `ws2sim::sys` that
windows-sys 0.61 declares, the facade gets the item in windows-sys' module, with windows-sys'
own signature or type text: functions forward to `ws2sim::sys`, constants are ws2sim's values
at windows-sys' types, structs and unions are ws2sim's (layout-tested against windows-sys),
type aliases are windows-sys' definitions. `ws2sim::sys` items windows-sys does not have are
left out (they are ws2sim extras). Run it again after adding a function to `ws2sim::sys`:

    python3 crates/windows-sys-sim/generate.py [path/to/windows-sys-0.61.x]

The default path is the copy in cargo's registry (`cargo fetch` puts it there).
"""
import glob, os, re, subprocess, sys

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.normpath(os.path.join(HERE, "..", ".."))

def windows_sys_dir():
    if len(sys.argv) > 1:
        return sys.argv[1]
    home = os.environ.get("CARGO_HOME", os.path.expanduser("~/.cargo"))
    found = sorted(glob.glob(os.path.join(home, "registry/src/*/windows-sys-0.61.*")))
    if not found:
        sys.exit("windows-sys 0.61 is not in cargo's registry: run `cargo fetch` first")
    return found[-1]

WS = windows_sys_dir()

# --- ws2sim::sys: the public items, by kind
ours = {"fn": set(), "const": set(), "struct": set(), "union": set(), "type": set()}
for f in glob.glob(os.path.join(ROOT, "src/sys/*.rs")) + [os.path.join(ROOT, "src/consts.rs")]:
    for m in re.finditer(r'^pub (?:unsafe )?(?:extern "system(?:-unwind)?" )?(fn|const|struct|union|type) (\w+)',
                         open(f).read(), re.M):
        ours[m.group(1)].add(m.group(2))

# The error codes, which src/error.rs declares through its `wsa_errors!` table.
for m in re.finditer(r'^\s+\w+ = (\w+) \d+ "', open(os.path.join(ROOT, "src/error.rs")).read(), re.M):
    ours["const"].add(m.group(1))

# --- windows-sys: every declaration, by module
decls = {}   # (kind, name) -> [(module, text)]
def add(kind, name, module, text):
    decls.setdefault((kind, name), []).append((module, text))

def scan(path, module):
    s = open(path).read()
    for m in re.finditer(r'windows_link::link!\("[^"]+" "system"(?: "[^"]*")? fn (\w+)\s*\((.*?)\)\s*(?:-> (.*?))?\);', s):
        add("fn", m.group(1), module, (m.group(2), m.group(3)))
    for m in re.finditer(r'^pub const (\w+): (.*?) = ', s, re.M):
        add("const", m.group(1), module, m.group(2))
    for m in re.finditer(r'^pub type (\w+) = (.*?);$', s, re.M):
        add("type", m.group(1), module, m.group(2))
    for m in re.finditer(r'^pub (struct|union) (\w+) \{\n(.*?)^\}', s, re.M | re.S):
        fields = re.findall(r'^    pub (\w+):', m.group(3), re.M)
        add("struct", m.group(2), module, (m.group(1), fields))

root = os.path.join(WS, "src/Windows/")
for f in glob.glob(root + "**/mod.rs", recursive=True):
    scan(f, os.path.dirname(f)[len(root):].replace("/", "::"))
scan(os.path.join(WS, "src/core/mod.rs"), "core")

MODULES = ["core", "Win32::Foundation", "Win32::Networking::WinSock", "Win32::System::IO",
           "Win32::System::Threading", "Win32::System::SystemInformation",
           "Win32::System::Performance", "Win32::Security"]

def clean(text):
    text = re.sub(r"\s*::\s*", "::", text)
    text = re.sub(r"\s+:\s+", ": ", text)
    return text.replace("windows_sys::core::", "crate::core::")

items = {m: [] for m in MODULES}   # module -> [(sort key, text)]
parity = []   # (kind, module, name, shape): what tests/parity.rs compares
placed = set()
def place(module, key, text):
    if module in items and (module, key) not in placed:
        placed.add((module, key))
        items[module].append((key, text))

for name in sorted(ours["fn"]):
    for module, (args, ret) in decls.get(("fn", name), []):
        args = clean(args)
        names = [a.split(":")[0].strip() for a in args.split(",") if a.strip()]
        ret = f" -> {clean(ret)}" if ret else ""
        place(module, name,
              f"/// [`ws2sim::sys::{name}`] with windows-sys' signature.\n"
              f"pub unsafe extern \"system-unwind\" fn {name}({args}){ret} {{\n"
              f"    unsafe {{ ws2sim::sys::{name}({', '.join(names)}) }}\n}}")

for name in sorted(ours["const"]):
    for module, ty in decls.get(("const", name), []):
        ty = clean(ty)
        if module in items:
            parity.append(("const", module, name, None))
        # A GUID is a structure: no `as` cast, the facade's GUID is ws2sim's.
        value = f"ws2sim::sys::{name}" if ty.endswith("GUID") else f"ws2sim::sys::{name} as {ty}"
        place(module, name,
              f"/// [`ws2sim::sys::{name}`] at windows-sys' type.\n"
              f"pub const {name}: {ty} = {value};")

for name in sorted(ours["struct"] | ours["union"]):
    for module, shape in decls.get(("struct", name), []):
        place(module, name, f"pub use ws2sim::sys::{name};")
        if module in items:
            parity.append(("layout", module, name, shape))

# Type aliases: ws2sim's own, and every alias a copied signature or alias names.
wanted = set(ours["type"])
for module in MODULES:
    for _, text in items[module]:
        wanted |= set(re.findall(r"\b([A-Z][A-Z0-9_]+)\b", text))
done = set()
while wanted - done:
    name = sorted(wanted - done)[0]
    done.add(name)
    for module, ty in decls.get(("type", name), []):
        if module in items and name not in ours["struct"] | ours["union"]:
            ty = clean(ty)
            place(module, name, f"/// windows-sys' `{name}`.\npub type {name} = {ty};")
            wanted |= set(re.findall(r"\b([A-Z][A-Z0-9_]+)\b", ty))

HEADER = "// @generated by generate.py from windows-sys' declarations and ws2sim::sys; do not edit.\n"

def body(module):
    return "\n\n".join(text for _, text in sorted(items[module]))

with open(os.path.join(HERE, "src/core.rs"), "w") as f:
    f.write(HEADER)
    f.write("//! windows-sys' `core`: `GUID` (with `from_u128`), `BOOL` and the string pointer types.\n\n")
    f.write(body("core") + "\n")

tree = {}
for module in MODULES[1:]:
    node = tree
    for part in module.split("::")[1:]:
        node = node.setdefault(part, {})
def render(node, path, depth):
    out = []
    for part in sorted(node):
        full = path + "::" + part
        doc = f"windows-sys' `{full}`: the items of it that ws2sim simulates."
        inner = render(node[part], full, depth + 1)
        own = body(full) if full in items else ""
        out.append(f"#[doc = \"{doc}\"]\npub mod {part} {{\n{own}\n{inner}\n}}")
    return "\n\n".join(out)
with open(os.path.join(HERE, "src/Win32.rs"), "w") as f:
    f.write(HEADER)
    f.write("//! windows-sys' `Win32` tree, for the modules ws2sim simulates.\n\n")
    f.write(render(tree, "Win32", 0) + "\n")

# Every windows-sys feature, so a dependency's `features = [...]` list is accepted as it is.
features = re.search(r"^\[features\]\n(.*?)(?=^\[)", open(os.path.join(WS, "Cargo.toml")).read(),
                     re.M | re.S).group(1)
names = [l.split("=")[0].strip() for l in features.splitlines() if "=" in l]
cargo = os.path.join(HERE, "Cargo.toml")
text = open(cargo).read()
block = "[features]\n# windows-sys' features, accepted and ignored: the facade always has all of it.\n" + \
    "".join(f"{n} = []\n" for n in names)
text = re.sub(r"^\[features\]\n.*?(?=^\[|\Z)", block + "\n", text, flags=re.M | re.S)
open(cargo, "w").write(text)

# The parity test: every constant's value and every structure's size, alignment and field
# offsets, facade against windows-sys.
def path(crate, module):
    return crate + "::" + module
consts, layouts = [], []
for kind, module, name, shape in sorted(set((k, m, n, repr(d)) for k, m, n, d in parity)):
    sim, real = path("windows_sys_sim", module), path("windows_sys", module)
    if kind == "const" and name.startswith("WSAID_"):
        # GUIDs: the same four fields (the two crates' GUID types differ).
        g = lambda c: f"({c}::{name}.data1, {c}::{name}.data2, {c}::{name}.data3, {c}::{name}.data4)"
        consts.append(f"    assert_eq!({g(sim)}, {g(real)}, \"{name}\");")
    elif kind == "const":
        consts.append(f"    assert_eq!({sim}::{name}, {real}::{name}, \"{name}\");")
    else:
        what, fields = eval(shape)
        layouts.append(f"    assert_eq!(size_of::<{sim}::{name}>(), size_of::<{real}::{name}>(), \"{name}\");")
        layouts.append(f"    assert_eq!(align_of::<{sim}::{name}>(), align_of::<{real}::{name}>(), \"{name}\");")
        if what == "struct":
            for field in fields:
                layouts.append(f"    assert_eq!(offset_of!({sim}::{name}, {field}), offset_of!({real}::{name}, {field}), \"{name}.{field}\");")
os.makedirs(os.path.join(HERE, "tests"), exist_ok=True)
with open(os.path.join(HERE, "tests/parity.rs"), "w") as f:
    f.write(HEADER)
    f.write("//! The facade against the real windows-sys: every constant has windows-sys' value (and,\n"
            "//! being compared with `==`, its type), every structure its size, alignment and field\n"
            "//! offsets. The real crate's functions are never called (they are only declarations here).\n\n"
            "use std::mem::{align_of, offset_of, size_of};\n\n")
    f.write("#[test]\nfn every_constant_has_windows_sys_value_and_type() {\n" + "\n".join(consts) + "\n}\n\n")
    f.write("#[test]\nfn every_structure_has_windows_sys_layout() {\n" + "\n".join(layouts) + "\n}\n")

subprocess.run(["rustfmt", "--edition", "2021", os.path.join(HERE, "src/core.rs"),
                os.path.join(HERE, "src/Win32.rs"), os.path.join(HERE, "tests/parity.rs")], check=True)
print("wrote src/core.rs, src/Win32.rs, tests/parity.rs and the features of Cargo.toml")
