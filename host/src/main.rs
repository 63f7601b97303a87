//! The `vitals` binary: parse the arguments and hand them to the library.

fn main() -> std::process::ExitCode {
    vitals::cli::main()
}
