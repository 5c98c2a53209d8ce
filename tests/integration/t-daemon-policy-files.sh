#!/bin/bash
# mailwarden and the files its policy names: a FIFO in place of a key, a rule file, an access
# list, an included policy file or the trust anchor makes `mailwarden -t` and a SIGHUP reload
# fail at once with an error naming the policy file, line and option (no hang; SIGTERM still
# stops the daemon); `-t` as root reads keys as milter.user does (a root-only key fails, naming
# the file and the user); an encrypted key fails at once with "encrypted keys are not
# supported"; key text pasted into `file =` never appears in the error.
. "$(dirname "$0")/lib.sh"
mw_init t-daemon-policy-files

dns_start
mw_port MW_PORT
KEYGEN=$MW_BUILDDIR/filter/mailwarden-keygen
mkdir -p "$MW_WORK/keys"
"$KEYGEN" -d example.test -s good -t ed25519 -o "$MW_WORK/keys/good.key" >/dev/null \
    || die "mailwarden-keygen failed"
mkfifo "$MW_WORK/fifo"
CONF=$MW_WORK/mailwarden.conf

# key_policy FILE [MILTER_LINE]: a policy whose only DKIM key is read from FILE
key_policy() {
    printf 'dkim: {\n  keys = ( { name = "k"; domain = "example.test"; selector = "sel"; file = "%s" } )\n}\n' \
        "$1" | mw_policy "$CONF"
    [ -z "${2:-}" ] || sed -i "s|^  socket = .*|&\n$2|" "$CONF"
}
key_line() { grep -n 'name = "k"' "$CONF" | cut -d: -f1; }

# check_t NAME PATTERN...: `mailwarden -t` exits 1 (not hanging: timeout gives 124) and its
# output matches every extended regex PATTERN. The output is kept in $T_OUT.
check_t() {
    local name=$1 why_not="" p rc; shift
    T_OUT=$MW_WORK/t-$RANDOM.out
    timeout 20 setsid "$MW_BIN" -t -c "$CONF" </dev/null >"$T_OUT" 2>&1
    rc=$?
    [ "$rc" = 1 ] || why_not="mailwarden -t exit $rc (1 expected; 124 is a hang)"
    for p in "$@"; do
        grep -qE -- "$p" "$T_OUT" || why_not="${why_not:+$why_not; }output lacks /$p/"
    done
    cat "$T_OUT" >>"$MW_WORK/mailwarden-t-runs.log"
    if [ -z "$why_not" ]; then pass "$name"; else fail "$name" "$why_not: $(head -c 400 "$T_OUT" | tr '\n' '|')"; fi
}

# --- FIFOs (hardening item 9) ---
key_policy "$MW_WORK/fifo"
check_t "policy-files: -t with a FIFO as a DKIM key fails at once naming file, line and option" \
    "^$CONF:$(key_line): dkim.keys: .*FIFO"

printf 'access = ( { name = "list"; match = "sender"; file = "%s"; action = "reject" } )\n' \
    "$MW_WORK/fifo" | mw_policy "$CONF"
check_t "policy-files: -t with a FIFO as an access list file fails at once" \
    "^$CONF:[0-9]+: access\\[1\\]\\.file: .*FIFO"

printf 'rules: { files = [ "%s" ] }\n' "$MW_WORK/fifo" | mw_policy "$CONF"
check_t "policy-files: -t with a FIFO as a rule file fails at once" "rules.files: .*FIFO"

printf 'include = [ "%s" ]\n' "$MW_WORK/fifo" | mw_policy "$CONF"
check_t "policy-files: -t with a FIFO as an included policy file fails at once" "$MW_WORK/fifo: .*FIFO"

printf '@include "%s"\n' "$MW_WORK/fifo" | mw_policy "$CONF"
check_t "policy-files: -t with a FIFO in libconfig's @include fails at once" "^$CONF:[0-9]+: @include: .*FIFO"

mw_policy "$CONF" </dev/null
sed -i "s|^  use_hosts = .*|&\n  trust_anchor = \"$MW_WORK/fifo\"|" "$CONF"
check_t "policy-files: -t with a FIFO as the trust anchor fails at once" "dns.trust_anchor: .*FIFO"

# SIGHUP with a FIFO key: the reload fails at once, the daemon keeps serving and stops on SIGTERM
key_policy "$MW_WORK/keys/good.key"
mw_start "$CONF"
key_policy "$MW_WORK/fifo"
mw_hup
name="policy-files: a SIGHUP reload with a FIFO key fails at once, naming file, line and option"
if mw_wait_until 20 assert_contains "$MW_LOG" "reload: .* error" 2>/dev/null; then
    if assert_contains "$MW_LOG" "$CONF:$(key_line): dkim.keys: .*FIFO"; then pass "$name"; else fail "$name" "$MW_WHY"; fi
else
    fail "$name" "no reload error in the log within 20 s (the signal thread hangs?)"
fi
mw_finish "policy-files: after the failed reload the daemon runs and stops on SIGTERM"

# --- keys the daemon user cannot read (hardening item 8) ---
cp "$MW_WORK/keys/good.key" "$MW_WORK/keys/rootonly.key"
chown root:root "$MW_WORK/keys/rootonly.key"
chmod 0600 "$MW_WORK/keys/rootonly.key"
key_policy "$MW_WORK/keys/rootonly.key" '  user = "nobody"'
check_t "policy-files: -t as root fails for a key milter.user cannot read, naming the file and the user" \
    "$MW_WORK/keys/rootonly.key" "user nobody"
chown nobody "$MW_WORK/keys/rootonly.key"
name="policy-files: -t as root passes when milter.user can read the key"
if timeout 20 "$MW_BIN" -t -c "$CONF" >"$MW_WORK/t-ok.out" 2>&1; then
    pass "$name"
else
    fail "$name" "exit $?: $(head -c 300 "$MW_WORK/t-ok.out" | tr '\n' '|')"
fi

# --- an encrypted key (hardening item 10); setsid: no terminal to prompt on ---
openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -aes-128-cbc -pass pass:secret \
    -out "$MW_WORK/keys/enc.key" 2>/dev/null || die "openssl genpkey failed"
chmod 0600 "$MW_WORK/keys/enc.key"
key_policy "$MW_WORK/keys/enc.key"
check_t "policy-files: an encrypted key fails at once: not supported, decrypt with openssl pkey" \
    "enc.key: encrypted keys are not supported; decrypt it with openssl pkey"

# --- key text pasted into file = (hardening item 14) ---
"$KEYGEN" -d example.test -s pasted -t rsa -o "$MW_WORK/keys/pasted.key" >/dev/null || die "keygen"
# no_key_text NAME: the last -t output holds no line (not even its first 16 bytes) of the key
no_key_text() {
    local name=$1 line leak=""
    while IFS= read -r line; do
        [ -n "$line" ] || continue
        grep -qF -- "${line:0:16}" "$T_OUT" && leak=$line
    done <"$MW_WORK/keys/pasted.key"
    grep -qF -- "-----" "$T_OUT" && leak=${leak:-PEM armour}
    if [ -z "$leak" ]; then pass "$name"; else fail "$name" "the error shows key text: ${leak:0:20}..."; fi
}
key_policy "$(cat "$MW_WORK/keys/pasted.key")"
check_t "policy-files: a PEM key pasted into file = is an error" "error"
no_key_text "policy-files: the error for a PEM key pasted into file = holds no part of it"
key_policy "$(sed -n 2p "$MW_WORK/keys/pasted.key")"
check_t "policy-files: one line of key text in file = is an error naming the option" "dkim.keys"
no_key_text "policy-files: the error for one line of key text in file = holds no part of it"
ed_seed=$(openssl rand -base64 32)
key_policy "$ed_seed"
check_t "policy-files: an ed25519 seed in file = is an error naming the option" "dkim.keys"
name="policy-files: the error for an ed25519 seed in file = does not show it"
if grep -qF -- "${ed_seed:0:12}" "$T_OUT"; then fail "$name" "the seed is in the output"; else pass "$name"; fi
printf 'access = ( { name = "list"; match = "sender"; file = "%s"; action = "reject" } )\n' \
    "$(sed -n 2p "$MW_WORK/keys/pasted.key")" | mw_policy "$CONF"
check_t "policy-files: key text as an access list file is an error naming the option" "access\\[1\\]\\.file"
no_key_text "policy-files: the error for key text as an access list file holds no part of it"
