#!/usr/bin/env bash
# completion.sh - the shell completion scripts that `make install` installs
# (build/completion/pinset.{bash,zsh,fish}, written at build time by
# `pinset completion SHELL`) are the tool's current ones, and they complete:
# bash by calling _pinset with COMP_WORDS/COMP_CWORD set as bash sets them,
# fish with `complete -C`, zsh through its completion system in a zpty; zsh
# and fish also parse the whole script (zsh -n, fish --no-execute). For every
# command `pinset help` lists, bash offers exactly the options its --help
# prints: the scripts come from the same option tables.
set -u
build=${PINSET_BUILD_DIR:?}
bin=${PINSET_BIN:?PINSET_BIN: the pinset tool}
tmp=$(mktemp -d) || exit 1
trap 'rm -rf "$tmp"' EXIT
fail=0
bad() { echo "FAIL: $*"; fail=1; }

# has "WORD..." LIST: every word is a line of LIST.
has() {
    local w
    for w in $1; do
        grep -qxF -- "$w" <<<"$2" || return 1
    done
}
# Self-test of has: a missing word is seen.
has "check" "$(printf 'check\nhash')" && ! has "check --policy" "check" ||
    { echo "FAIL: self-test: has does not see a missing word"; exit 1; }

for sh in bash zsh fish; do
    f=$build/completion/pinset.$sh
    [ -s "$f" ] || { echo "FAIL: $f not built"; exit 1; }
    "$bin" completion "$sh" > "$tmp/now.$sh" || { echo "FAIL: pinset completion $sh failed"; exit 1; }
    cmp -s "$f" "$tmp/now.$sh" || bad "$f is not what 'pinset completion $sh' prints"
done

# ---- bash ----
# bcomp WORD...: what _pinset offers when the cursor ends the last word.
bcomp() {
    bash --norc --noprofile -c '
        source "$1"; shift
        COMP_WORDS=("$@"); COMP_CWORD=$(($# - 1)); COMP_LINE="$*"; COMP_POINT=${#COMP_LINE}
        _pinset pinset "${COMP_WORDS[COMP_CWORD]}" "${COMP_WORDS[COMP_CWORD - 1]}"
        printf "%s\n" "${COMPREPLY[@]}"' bcomp "$build/completion/pinset.bash" "$@"
}
# bexpect "WORDS" WORD...: bash offers at least WORDS.
bexpect() {
    local want=$1 got
    shift
    got=$(bcomp "$@") || { bad "bash: _pinset failed for '$*'"; return; }
    has "$want" "$got" || bad "bash: '$*' offers $(echo $got), not all of: $want"
}
cmds=$("$bin" help | awk '/^commands:/{on=1; next} on && /^  [a-z]/{print $1}')
[ -n "$cmds" ] || { echo "FAIL: 'pinset help' lists no command"; exit 1; }
: > "$tmp/chain.pem"
mkdir "$tmp/keep.d"

bexpect "check" pinset ch
bexpect "$cmds" pinset ''
bexpect "--help --version" pinset --
bexpect "--policy" pinset check --pol
bexpect "text json hpkp curl okhttp hex" pinset hash --format ''
bexpect "spki cert" pinset hash -k ''
bexpect "never auto always" pinset lint --color ''
bexpect "smtp imap pop3 ftp xmpp postgres" pinset fetch --starttls ''
bexpect "json jsonl" pinset check --format = j     # bash splits --format=j at '='
bexpect "--format=json --format=jsonl" pinset check --format=j
bexpect "$tmp/chain.pem" pinset hash "$tmp/ch"
bexpect "$tmp/chain.pem" pinset check --policy "$tmp/ch"
bexpect "$tmp/keep.d" pinset demo --keep "$tmp/ke"
bexpect "bash zsh fish" pinset completion ''
bexpect "$cmds" pinset help ''
[ -z "$(bcomp pinset completion bash '')" ] || bad "bash: 'pinset completion bash' offers a second shell"
[ -z "$(bcomp pinset check --now '')" ] || bad "bash: 'pinset check --now' offers something for a TIME"
[ "$(bcomp pinset hash --format '' | sort | tr '\n' ' ')" = "curl hex hpkp json okhttp text " ] ||
    bad "bash: 'pinset hash --format' offers $(bcomp pinset hash --format '' | tr '\n' ' ')"
# every command: exactly the options of its --help
for c in $cmds; do
    want=$("$bin" "$c" --help | sed -nE 's/^ +(-([A-Za-z0-9]), )?--([a-z0-9-]+).*/--\3/p' | sort)
    got=$(bcomp pinset "$c" -- | sort)
    [ "$want" = "$got" ] || bad "bash: 'pinset $c --' offers $(echo $got), --help has $(echo $want)"
done

# ---- fish ----
if ! command -v fish > /dev/null; then
    bad "fish not installed (Debian package fish; scripts/install-deps.sh installs it)"
else
    fish --no-execute "$build/completion/pinset.fish" || bad "fish: the script does not parse"
    fcomp() {
        fish --no-config -c 'source $argv[1]; complete -C$argv[2]' "$build/completion/pinset.fish" "$1" |
            cut -f1
    }
    has "check" "$(fcomp 'pinset ch')" || bad "fish: 'pinset ch' offers $(fcomp 'pinset ch')"
    has "--policy" "$(fcomp 'pinset check --pol')" || bad "fish: 'pinset check --pol' lacks --policy"
    has "hpkp okhttp" "$(fcomp 'pinset hash --format ')" || bad "fish: 'pinset hash --format ' lacks hpkp"
    has "$tmp/chain.pem" "$(fcomp "pinset hash $tmp/ch")" || bad "fish: 'pinset hash FILE' offers no file"
    [ -z "$(fcomp "pinset fetch $tmp/ch")" ] || bad "fish: 'pinset fetch' offers files as hosts"
fi

# ---- zsh ----
if ! command -v zsh > /dev/null; then
    bad "zsh not installed (Debian package zsh; scripts/install-deps.sh installs it)"
else
    zsh -n "$build/completion/pinset.zsh" || bad "zsh: the script does not parse"
    mkdir "$tmp/fpath" && cp "$build/completion/pinset.zsh" "$tmp/fpath/_pinset"
    # zcomp LINE: the candidates zsh's completion system adds when TAB is pressed after LINE
    # (an interactive zsh in a zpty, with compadd wrapped to print what it is given).
    cat > "$tmp/zcomp.zsh" <<'ZSH'
zmodload zsh/zpty || exit 1
zpty z zsh -f -i
zpty -w z "PS1= PROMPT= RPROMPT="
zpty -w z "fpath=($1 \$fpath); autoload -Uz compinit; compinit -u -D"
zpty -w z 'compadd () {
  if [[ ${@[1,(i)(-|--)]} == *-(O|A|D)\ * ]]; then builtin compadd "$@"; return $?; fi
  typeset -a __hits; builtin compadd -A __hits "$@"
  (( $#__hits == 0 )) && return 1
  print -r -- "<hit>"${^__hits}"</hit>"
  builtin compadd "$@"
}'
# TAB runs complete-word and then says so: nothing is typed ahead of a completion in progress
zpty -w z "_zc_tab() { zle complete-word; print -r -- '<cdo''ne>' }; zle -N _zc_tab; bindkey '^I' _zc_tab"
zpty -w z "print '<rea''dy>'"
zpty -r z out '*<ready>*'
zpty -w -n z "$2"$'\t'
zpty -r z out '*<cdone>*'
hits=$out
zpty -w z $'\C-u'"print '<do''ne>'"
zpty -r z out '*<done>*'
zpty -d z
out=$hits
print -r -- "$out" | grep -ao '<hit>[^<]*</hit>' | sed 's/<hit>//; s/<\/hit>//' | sort -u
ZSH
    zcomp() { timeout 30 zsh -f "$tmp/zcomp.zsh" "$tmp/fpath" "$1"; }
    has "check" "$(zcomp 'pinset ch')" || bad "zsh: 'pinset ch' offers $(zcomp 'pinset ch')"
    has "--policy" "$(zcomp 'pinset check --pol')" || bad "zsh: 'pinset check --pol' lacks --policy"
    has "hpkp okhttp" "$(zcomp 'pinset hash --format ')" || bad "zsh: 'pinset hash --format ' lacks hpkp"
fi

[ $fail -eq 0 ] || exit 1
echo "ok: bash, zsh and fish complete the commands and options of: $(echo $cmds)"
