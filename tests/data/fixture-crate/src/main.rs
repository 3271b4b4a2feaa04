//! Prints a version like the real binary, so the install script's smoke test passes.
fn main() {
    println!("dts-gate 0.0.1 (fixture)");
}
