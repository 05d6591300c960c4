fn main() -> std::process::ExitCode {
    boulder::cli::main()
}
