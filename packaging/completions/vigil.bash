# bash completion for vigil
_vigil() {
    local current previous
    current="${COMP_WORDS[COMP_CWORD]}"
    previous="${COMP_WORDS[COMP_CWORD-1]}"
    case "$previous" in
        -f|--use-file|-p|--pid|-r|--vrrp_pid|-c|--checkers_pid|-b|--bfd_pid|-g|--log-file)
            COMPREPLY=($(compgen -f -- "$current")); return ;;
        --runtime-dir)
            COMPREPLY=($(compgen -d -- "$current")); return ;;
    esac
    if [ "$COMP_CWORD" -eq 1 ] && [[ "$current" != -* ]]; then
        COMPREPLY=($(compgen -W "status reload config lab" -- "$current")); return
    fi
    case "${COMP_WORDS[1]}" in
        status) COMPREPLY=($(compgen -W "--json --runtime-dir" -- "$current")); return ;;
        config) COMPREPLY=($(compgen -W "dump time --json -f" -- "$current")); return ;;
    esac
    COMPREPLY=($(compgen -W "-f --use-file -t --config-test -n --dont-fork -l --log-console -D --log-detail
        -S --log-facility -g --log-file -p --pid -r --vrrp_pid -c --checkers_pid -b --bfd_pid -B --no_bfd -R --dont-respawn
        -V --dont-release-vrrp -v --version -h --help --runtime-dir --metrics" -- "$current"))
}
complete -F _vigil vigil
