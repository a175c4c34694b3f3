//! TH-3: a test never waits on the wall clock, so none may assert how long it took in wall
//! time either (issue 12 item 18: such an assertion failed under valgrind). This test reads
//! the other test files and fails when one of them measures wall time.

use std::path::Path;

#[test]
fn th_3_no_test_asserts_wall_clock_time() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests");
    let this = Path::new(file!())
        .file_name()
        .expect("this test has a file name")
        .to_owned();
    let mut found = Vec::new();
    let mut files = vec![dir];
    while let Some(path) = files.pop() {
        if path.is_dir() {
            for entry in std::fs::read_dir(&path).expect("tests/ is readable") {
                files.push(entry.expect("a directory entry").path());
            }
            continue;
        }
        if path.extension().is_none_or(|e| e != "rs") || path.file_name() == Some(&this) {
            continue;
        }
        let text = std::fs::read_to_string(&path).expect("a test file is readable");
        for (n, line) in text.lines().enumerate() {
            if line.contains("Instant::now") || line.contains("SystemTime::now") {
                found.push(format!("{}:{}: {}", path.display(), n + 1, line.trim()));
            }
        }
    }
    assert!(
        found.is_empty(),
        "tests measure wall time:\n{}",
        found.join("\n")
    );
}
