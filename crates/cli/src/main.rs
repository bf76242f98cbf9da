//! The `vaxtrace` binary; everything lives in the library so fuzz targets reach the parsers.

fn main() -> std::process::ExitCode {
    vaxtrace_cli::main()
}
