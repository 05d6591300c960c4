//! The bash side of breakpoints: the `boulder_break` function every phase
//! script defines in its prologue, and the ERR trap of `--break-on-failure`.
//!
//! The phase runs in one bash process. At a breakpoint that process writes its
//! state (variables, functions, working directory, options) as an rc file,
//! tells boulder through the channel directory and obeys its replies: start an
//! interactive bash on the terminal that sources the rc file, carry on, or
//! exit. Nothing of the script is re-run, so the state is the script's own.

/// Where the channel directory appears inside the sandbox.
pub const GUEST_DIR: &str = "/mason/.break";

/// Exit status of a phase stopped at a breakpoint (`%break_exit`, `abort`,
/// or a breakpoint refused without a terminal).
pub const STOP_STATUS: i32 = 86;

/// Environment variables the host sets for the script.
pub(crate) const ENV_DIR: &str = "BOULDER_BREAK_DIR";
pub(crate) const ENV_ON_FAILURE: &str = "BOULDER_BREAK_ON_FAILURE";
pub(crate) const ENV_SHELL: &str = "BOULDER_BREAK_SHELL";
/// Which of the session's phases the script is (0 when unset): the phases
/// of a build share one session and one sandbox.
pub const ENV_PHASE: &str = "BOULDER_PHASE";

/// Bash for an ERR trap that has `$?` in `__bb_status` and `$LINENO` in
/// `__bb_line`: under `--break-on-failure` it opens the console at the
/// failing command. An ERR trap installed after [`bash_function`] replaces
/// the function's own and must call this.
pub const FAILURE_HOOK: &str = "if [ -n \"${BOULDER_BREAK_ON_FAILURE:-}\" ]; then __boulder_failed \"$__bb_status\" \"$__bb_line\"; fi";

/// The bash text defining `boulder_break` (called as
/// `boulder_break continue|exit <recipe-line>`) and, when boulder asks for it,
/// the ERR trap that opens the console at a failing command. Put it in the
/// prologue of every phase script, before the phase text; it is silent under
/// `set -x` and safe under `set -e -u -o pipefail`.
///
/// Without a channel (`BOULDER_BREAK_DIR` unset, e.g. the script run by hand)
/// a breakpoint is reported on stderr and the script carries on.
pub fn bash_function() -> &'static str {
    BASH_FUNCTION
}

// Names starting with `__bb_` are this code's own and never carried into the
// shell. `local` keeps them out of the script's namespace.
const BASH_FUNCTION: &str = r#"# boulder breakpoints: state-keeping shell at %break_continue / %break_exit
__boulder_break_state() {
    local __bb_name __bb_flags __bb_opt
    for __bb_name in $(compgen -v); do
        case $__bb_name in
            __bb_*|BASH|BASHOPTS|BASHPID|BASH_*|EUID|PPID|SHELLOPTS|UID|FUNCNAME|GROUPS|DIRSTACK|PIPESTATUS|HISTCMD|LINENO|RANDOM|SECONDS|SRANDOM|EPOCHREALTIME|EPOCHSECONDS|SHLVL|COMP_WORDBREAKS|HOSTTYPE|MACHTYPE|OSTYPE|OPTERR|OPTIND|PS1|PS2|HISTFILE|HISTFILESIZE|HISTSIZE|COLUMNS|LINES|_) continue ;;
        esac
        declare -p "$__bb_name" 2>/dev/null || :
    done
    declare -f
    declare -F | while read -r _ __bb_flags __bb_name; do
        case $__bb_flags in *x*) printf 'export -f %s\n' "$__bb_name" ;; esac
    done
    # Interactive-only options are the new shell's; errexit and xtrace stay
    # off so a typo does not end the shell.
    for __bb_opt in allexport braceexpand errtrace functrace hashall noclobber noglob nounset physical pipefail posix; do
        if [[ -o $__bb_opt ]]; then printf 'set -o %s\n' "$__bb_opt"; else printf 'set +o %s\n' "$__bb_opt"; fi
    done
    shopt -p dotglob extglob failglob globstar nocaseglob nocasematch nullglob lastpipe inherit_errexit 2>/dev/null || :
    printf 'umask %s\n' "$(umask)"
    printf 'cd -- %q\n' "$PWD"
}
__boulder_break_serve() {
    local __bb_dir=$1 __bb_cmd __bb_rc
    while :; do
        if ! IFS= read -r __bb_cmd < "$__bb_dir/to-script"; then
            __bb_cmd="exit 86"
        fi
        case $__bb_cmd in
            shell\ *)
                TERM=${__bb_cmd#shell } "${BASH:-bash}" --rcfile "$__bb_dir/state.bash" -i </dev/tty >/dev/tty 2>&1
                __bb_rc=$?
                printf 'shell-done %s\n' "$__bb_rc" > "$__bb_dir/to-host"
                ;;
            continue) return 0 ;;
            exit\ *) exit "${__bb_cmd#exit }" ;;
        esac
    done
}
__boulder_break_report() {
    local __bb_dir=$1 __bb_source=$2
    {
        __boulder_break_state
        # The shell's history stays in the channel, not in the build tree.
        printf 'HISTFILE=%q\n' "$__bb_dir/bash_history"
        printf '%s\n' "$3"
    } > "$__bb_dir/state.bash"
    env > "$__bb_dir/env"
    if [ -n "$__bb_source" ] && [ -r "$__bb_source" ]; then
        cp -- "$__bb_source" "$__bb_dir/script"
    else
        : > "$__bb_dir/script"
    fi
}
boulder_break() {
    { local __bb_opts=$-; set +x +e; } 2>/dev/null
    local __bb_kind=${1:-continue} __bb_line=${2:-0} __bb_dir=${BOULDER_BREAK_DIR:-}
    __boulder_in_break=1
    if [ -n "$__bb_dir" ] && [ -p "$__bb_dir/to-host" ]; then
        # Without a terminal nobody will look at the state: skip the dump.
        [ -z "${BOULDER_BREAK_SHELL:-}" ] || __boulder_break_report "$__bb_dir" "${BASH_SOURCE[1]:-}" \
            "PS1='(recipe line $__bb_line) \\w \\$ '
printf '%s\n' 'boulder: a shell with the script'\''s state; exit (or Ctrl-D) returns to boulder'"
        # Marks the end of what was printed before the pause (see sync.rs).
        printf '##boulder-break-sync\n'
        printf 'break %s %s %s %s\n' "$__bb_kind" "$__bb_line" "${BASH_LINENO[0]}" "${BOULDER_PHASE:-0}" > "$__bb_dir/to-host"
        __boulder_break_serve "$__bb_dir"
    else
        printf 'boulder: breakpoint (%s) on recipe line %s: no breakpoint channel, carrying on\n' "$__bb_kind" "$__bb_line" >&2
    fi
    __boulder_in_break=
    case $__bb_opts in *e*) set -e ;; esac
    { case $__bb_opts in *x*) set -x ;; esac; } 2>/dev/null
}
__boulder_failed() {
    { local __bb_status=$1 __bb_opts=$- __bb_command=$BASH_COMMAND; set +x +e; } 2>/dev/null
    local __bb_line=${2:-0} __bb_dir=${BOULDER_BREAK_DIR:-}
    if [ -z "${__boulder_in_break:-}" ] && [ -n "$__bb_dir" ] && [ -p "$__bb_dir/to-host" ]; then
        __boulder_in_break=1
        printf '%s\n' "$__bb_command" > "$__bb_dir/command"
        __boulder_break_report "$__bb_dir" "${BASH_SOURCE[1]:-}" \
            "PS1='(failed, script line $__bb_line) \\w \\$ '
printf '%s\n' 'boulder: a shell with the script'\''s state at the failing command; exit (or Ctrl-D) returns to boulder'"
        printf '##boulder-break-sync\n'
        printf 'failed %s %s %s\n' "$__bb_status" "$__bb_line" "${BOULDER_PHASE:-0}" > "$__bb_dir/to-host"
        __boulder_break_serve "$__bb_dir"
        __boulder_in_break=
    fi
    case $__bb_opts in *e*) set -e ;; esac
    { case $__bb_opts in *x*) set -x ;; esac; } 2>/dev/null
    return "$__bb_status"
}
{ if [ -n "${BOULDER_BREAK_ON_FAILURE:-}" ]; then set -o errtrace; trap '__bb_status=$? __bb_line=$LINENO; __boulder_failed "$__bb_status" "$__bb_line"' ERR; fi; } 2>/dev/null
"#;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_pause_request_is_preceded_by_the_output_marker() {
        let marker = format!("printf '{}\\n'", super::super::SYNC_MARKER);
        let requests = BASH_FUNCTION.matches("> \"$__bb_dir/to-host\"").count();
        // Two pause requests (break, failed) and the shell's own "shell-done".
        assert_eq!(requests, 3);
        assert_eq!(BASH_FUNCTION.matches(&marker).count(), 2);
    }
}
