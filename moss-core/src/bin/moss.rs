fn main() -> std::process::ExitCode {
    moss_core::cli::main()
}
