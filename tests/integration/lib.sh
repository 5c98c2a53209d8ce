# shellcheck shell=bash disable=SC2034,SC2317
# tests/integration/lib.sh - fixtures for the integration tests: a private Postfix, a private
# Sendmail, a sink that keeps every delivered message, a stub DNS server and mailwarden itself.
#
# Sourced by every tests/integration/t-*.sh (bash). See /work/shared/RECIPE-mta.md for why each
# setting is the way it is. Rules kept here:
#   * everything listens on 127.0.0.1, on high ports that are free when chosen;
#   * everything started is stopped on exit (trap EXIT), and only the work directory this
#     fixture made is removed;
#   * readiness is polled (ports, queues), never waited for with long fixed sleeps.
#
# Environment:
#   MW_BUILDDIR        build tree (default: the source tree, two levels up)
#   MW_BIN             the daemon (default: $MW_BUILDDIR/filter/mailwarden)
#   MW_FAKE_MILTER=1   use helpers/fake-milter.py instead of the daemon (harness self-test)
#   MW_LOGDIR          where this test's logs are copied (run.sh sets it)
#   MW_KEEP=1          keep the work directory (its path is printed)
#   MW_SM_CACHE        where the unpacked Sendmail lives (default: $MW_BUILDDIR/tests/integration-cache)
#   SM_DEBUG           extra sendmail flags, e.g. -d64.5 (milter) or -d95.20 (AUTH); output in
#                      sendmail-sendmail.log

MW_SRCDIR=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
MW_ITDIR="$MW_SRCDIR/tests/integration"
MW_HELPERS="$MW_ITDIR/helpers"
: "${MW_BUILDDIR:=$MW_SRCDIR}"
MW_BUILDDIR=$(cd "$MW_BUILDDIR" && pwd)
: "${MW_BIN:=$MW_BUILDDIR/filter/mailwarden}"
# Debian's python3: a pyenv/venv python3 earlier on PATH lacks dnslib/dkim.
MW_PY=/usr/bin/python3
export ASAN_OPTIONS="detect_leaks=0:abort_on_error=1"
export UBSAN_OPTIONS="print_stacktrace=1"
export LC_ALL=C

MW_TEST=""            # name of the test file (t-foo)
MW_WORK=""            # this test's scratch directory (removed on exit)
MW_CLEANUP=()         # commands run in reverse order on exit
MW_PORTS_USED=" "
MW_FAILED=0           # number of FAIL lines this test printed
MW_LOG=""             # mailwarden's stderr
MW_PID=""

# ---------------------------------------------------------------------------------------------
# results

pass() { printf 'PASS: %s\n' "$1"; }
fail() { printf 'FAIL: %s: %s\n' "$1" "$2"; MW_FAILED=$((MW_FAILED + 1)); }
skip() { printf 'SKIP: %s: %s\n' "$1" "$2"; }
note() { printf '# %s\n' "$*"; }
die() { printf 'FAIL: %s: %s\n' "${MW_TEST:-setup}" "$*"; MW_FAILED=$((MW_FAILED + 1)); exit 1; }

# Assertions print nothing on success and the reason on stderr on failure, and return 0/1, so a
# check reads: `assert_contains F P && assert_not_contains F Q && pass x || fail x "$MW_WHY"`.
MW_WHY=""
assert_contains() {      # FILE PATTERN (extended regex)
    if [ -f "$1" ] && grep -Eq -- "$2" "$1"; then return 0; fi
    MW_WHY="$(basename "$1") does not contain /$2/"; echo "assert: $MW_WHY" >&2; return 1
}
assert_not_contains() {  # FILE PATTERN (extended regex); a missing file contains nothing
    if [ ! -f "$1" ] || ! grep -Eq -- "$2" "$1"; then return 0; fi
    MW_WHY="$(basename "$1") contains /$2/: $(grep -Em1 -- "$2" "$1")"; echo "assert: $MW_WHY" >&2; return 1
}
assert_contains_fixed() { # FILE STRING
    if [ -f "$1" ] && grep -Fq -- "$2" "$1"; then return 0; fi
    MW_WHY="$(basename "$1") does not contain '$2'"; echo "assert: $MW_WHY" >&2; return 1
}
assert_eq() {            # WHAT EXPECTED ACTUAL
    if [ "$2" = "$3" ]; then return 0; fi
    MW_WHY="$1: expected '$2', got '$3'"; echo "assert: $MW_WHY" >&2; return 1
}
why() { MW_WHY="$*"; echo "assert: $MW_WHY" >&2; return 1; }

# ---------------------------------------------------------------------------------------------
# set-up, clean-up

# mw_init NAME: makes the work dir, installs the exit trap. Call first in every test.
mw_init() {
    MW_TEST=$1
    [ "$(id -u)" = 0 ] || { skip "$MW_TEST" "needs root"; exit 0; }
    : "${MW_LOGDIR:=$MW_BUILDDIR/tests/integration-logs/$MW_TEST}"
    mkdir -p "$MW_LOGDIR"
    MW_WORK=$(mktemp -d "${TMPDIR:-/tmp}/mw-it.XXXXXX") || die "mktemp failed"
    # Every parent of a Postfix instance must be searchable by user postfix.
    chmod 755 "$MW_WORK"
    trap mw_cleanup EXIT
    local d=$MW_WORK
    while d=$(dirname "$d"); [ "$d" != / ]; do
        runuser -u postfix -- test -x "$d" 2>/dev/null \
            || die "$d is not searchable by user postfix: set TMPDIR to another directory"
    done
    trap 'exit 143' TERM
    trap 'exit 130' INT
    trap 'exit 129' HUP
    note "work dir $MW_WORK, logs $MW_LOGDIR"
}

mw_on_exit() { MW_CLEANUP+=("$*"); }

mw_cleanup() {
    local rc=$? i
    trap - EXIT TERM INT HUP
    for ((i = ${#MW_CLEANUP[@]} - 1; i >= 0; i--)); do
        eval "${MW_CLEANUP[$i]}" || true
    done
    MW_CLEANUP=()
    # A test that ended early (die) did not look for sanitizer reports: do it here.
    if [ -n "${MW_LOG:-}" ] && [ -f "$MW_LOG" ] && [ "$MW_SAN_CHECKED" != 1 ]; then
        mw_sanitizer_clean 2>/dev/null || fail "$MW_TEST: sanitizer report in mailwarden's log" "$MW_WHY"
    fi
    mw_collect_logs
    if [ -n "$MW_WORK" ] && [ -d "$MW_WORK" ]; then
        if [ "${MW_KEEP:-0}" = 1 ]; then
            note "kept $MW_WORK"
        else
            rm -rf -- "$MW_WORK"
        fi
    fi
    [ "$MW_FAILED" -gt 0 ] && rc=1
    exit "$rc"
}

# Copies the logs worth reading into $MW_LOGDIR.
mw_collect_logs() {
    [ -n "$MW_WORK" ] && [ -d "$MW_WORK" ] || return 0
    local f
    for f in "$MW_WORK"/*.log "$MW_WORK"/*.out "$MW_WORK"/*.conf "$MW_WORK"/pf/maillog \
             "$MW_WORK"/pf/etc/main.cf "$MW_WORK"/sm/traffic.log "$MW_WORK"/sm/sendmail.mc \
             "$MW_WORK"/sm/sendmail.log; do
        [ -f "$f" ] || continue
        case $f in
            "$MW_WORK"/pf/*) cp -f "$f" "$MW_LOGDIR/postfix-$(basename "$f")" ;;
            "$MW_WORK"/sm/*) cp -f "$f" "$MW_LOGDIR/sendmail-$(basename "$f")" ;;
            *) cp -f "$f" "$MW_LOGDIR/" ;;
        esac
    done
    if [ -d "$MW_WORK/sink" ]; then
        rm -rf "$MW_LOGDIR/sink"; cp -r "$MW_WORK/sink" "$MW_LOGDIR/sink" 2>/dev/null || true
    fi
}

# ---------------------------------------------------------------------------------------------
# ports and polling

mw_now() { date +%s.%N; }
mw_elapsed_lt() { # START LIMIT: true while now - START < LIMIT seconds
    awk -v s="$1" -v l="$2" -v n="$(mw_now)" 'BEGIN { exit !((n - s) < l) }'
}

# mw_wait_until TIMEOUT CMD...: polls CMD every 0.1 s; 0 once it succeeds, 1 on timeout.
mw_wait_until() {
    local limit=$1 start; shift
    start=$(mw_now)
    while ! "$@"; do
        mw_elapsed_lt "$start" "$limit" || return 1
        sleep 0.1
    done
    return 0
}

mw_port_listening() { [ -n "$(ss -Hltn "sport = :$1" 2>/dev/null)" ]; }
mw_port_free() { [ -z "$(ss -Hatn "sport = :$1" 2>/dev/null)" ] && [ -z "$(ss -Haun "sport = :$1" 2>/dev/null)" ]; }

# mw_port VAR: picks a free TCP/UDP port below the ephemeral range, not used by this test yet.
mw_port() {
    local lo p i
    lo=$(awk '{ print $1 }' /proc/sys/net/ipv4/ip_local_port_range 2>/dev/null)
    [ -n "$lo" ] && [ "$lo" -gt 12000 ] || lo=32768
    for ((i = 0; i < 500; i++)); do
        p=$((10000 + (RANDOM * 32768 + RANDOM) % (lo - 10000)))
        case $MW_PORTS_USED in *" $p "*) continue ;; esac
        if mw_port_free "$p"; then
            MW_PORTS_USED="$MW_PORTS_USED$p "
            printf -v "$1" '%s' "$p"
            return 0
        fi
    done
    die "no free port found"
}

mw_wait_listen() { mw_wait_until "${2:-20}" mw_port_listening "$1"; }
mw_wait_port_free() { mw_wait_until "${2:-20}" mw_port_free "$1"; }

# mw_kill_wait PID [TIMEOUT] [SIG]: signals our child PID and reaps it; SIGKILL after TIMEOUT.
mw_kill_wait() {
    local pid=$1 t=${2:-15} sig=${3:-TERM}
    [ -n "$pid" ] || return 0
    kill -0 "$pid" 2>/dev/null || { wait "$pid" 2>/dev/null; return 0; }
    kill -s "$sig" "$pid" 2>/dev/null
    if ! mw_wait_until "$t" mw_pid_gone "$pid"; then
        note "pid $pid did not exit after SIG$sig within ${t}s, killing it"
        kill -KILL "$pid" 2>/dev/null
    fi
    wait "$pid" 2>/dev/null
    return 0
}
# A child that exited but was not reaped yet is a zombie: count it as gone.
mw_pid_gone() {
    [ -r "/proc/$1/stat" ] || return 0
    [ "$(awk '{ print $3 }' "/proc/$1/stat" 2>/dev/null)" = Z ]
}

# ---------------------------------------------------------------------------------------------
# stub DNS server (python3-dnslib): answers from a zone file, NXDOMAIN for everything else, so
# the daemon's lookups are fast and the same everywhere.  Sets DNS_PORT.

dns_start() { # [ZONEFILE]
    local zone=${1:-$MW_WORK/dns.zone}
    [ -f "$zone" ] || : >"$zone"
    mw_port DNS_PORT
    "$MW_PY" "$MW_HELPERS/dns-stub.py" --port "$DNS_PORT" --zone "$zone" >>"$MW_WORK/dns.log" 2>&1 &
    DNS_PID=$!
    mw_on_exit "mw_kill_wait $DNS_PID 5"
    mw_wait_listen "$DNS_PORT" 10 || die "stub DNS did not start (see dns.log)"
}

# ---------------------------------------------------------------------------------------------
# the sink: smtp-sink -d keeps one file per delivered transaction in $SINK_DIR.

sink_start() {
    SINK_DIR=$MW_WORK/sink
    mkdir -p "$SINK_DIR"
    chown postfix "$SINK_DIR"
    mw_port SINK_PORT
    smtp-sink -u postfix -h sink.test -d "$SINK_DIR/%H%M%S." "127.0.0.1:$SINK_PORT" 64 \
        >>"$MW_WORK/sink.log" 2>&1 &
    SINK_PID=$!
    mw_on_exit "mw_kill_wait $SINK_PID 5"
    mw_wait_listen "$SINK_PORT" 10 || die "smtp-sink did not start (see sink.log)"
}

sink_count() { find "$SINK_DIR" -type f | wc -l; }
# sink_find TOKEN: the dump files that contain TOKEN (one per line).
sink_find() { grep -rlF -- "$1" "$SINK_DIR" 2>/dev/null; }
# sink_message DUMP OUT: the delivered message without smtp-sink's X-* lines and Received:.
sink_message() { "$MW_PY" "$MW_HELPERS/mwmsg.py" strip "$1" >"$2"; }
# sink_get TOKEN OUT: the one delivered message containing TOKEN, stripped; 1 unless exactly one.
sink_get() {
    local files n
    files=$(sink_find "$1")
    n=$(printf '%s' "$files" | grep -c .)
    [ "$n" = 1 ] || { why "expected 1 delivered message with $1, found $n"; return 1; }
    cp "$files" "$2.dump"
    sink_message "$files" "$2"
}

# ---------------------------------------------------------------------------------------------
# Postfix: a private instance in $PF_DIR, SMTP on $PF_PORT, relaying everything to the sink.
# PF_EXTRA_LISTENERS: master.cf lines appended as they are (more smtpd listeners).
# PF_EXTRA_MAIN: main.cf lines appended as they are.

pf_start() { # MILTER_PORT
    local milter_port=$1 milter
    # a port number, or a whole Postfix milter address such as unix:/path
    case $milter_port in
        *:*) milter=$milter_port ;;
        *) milter=inet:127.0.0.1:$milter_port ;;
    esac
    PF_DIR=$MW_WORK/pf
    mkdir -p "$PF_DIR"/{etc/sasl,spool,data,sasl}
    chmod 755 "$PF_DIR" "$PF_DIR/etc" "$PF_DIR/spool"
    chown postfix "$PF_DIR/data"
    : >"$PF_DIR/maillog"
    mw_port PF_PORT
    cat >"$PF_DIR/etc/main.cf" <<EOF
compatibility_level = 3.7
queue_directory = $PF_DIR/spool
data_directory = $PF_DIR/data
maillog_file = $PF_DIR/maillog
maillog_file_prefixes = $PF_DIR
myhostname = mta.test
mydomain = mta.test
myorigin = mta.test
mydestination =
local_recipient_maps =
alias_maps =
alias_database =
relayhost = [127.0.0.1]:$SINK_PORT
smtp_dns_support_level = disabled
smtp_host_lookup = native
inet_interfaces = loopback-only
inet_protocols = ipv4
mynetworks = 127.0.0.0/8
smtpd_relay_restrictions = permit_mynetworks, permit_sasl_authenticated, reject
smtpd_sasl_auth_enable = yes
smtpd_sasl_type = cyrus
smtpd_sasl_path = smtpd
smtpd_sasl_security_options = noanonymous
smtpd_sasl_local_domain = \$myhostname
smtpd_milters = $milter
non_smtpd_milters = $milter
milter_default_action = tempfail
milter_protocol = 6
biff = no
append_dot_mydomain = no
smtputf8_enable = no
queue_run_delay = 2s
minimal_backoff_time = 2s
maximal_backoff_time = 4s
smtpd_client_connection_count_limit = 0
smtpd_client_connection_rate_limit = 0
smtpd_client_message_rate_limit = 0
default_process_limit = 50
EOF
    # PF_EXTRA_MAIN: main.cf lines appended as they are (local mailboxes, more maps)
    [ -n "${PF_EXTRA_MAIN:-}" ] && printf '%s\n' "$PF_EXTRA_MAIN" >>"$PF_DIR/etc/main.cf"
    # chroot n everywhere; postlog for maillog_file.
    cat >"$PF_DIR/etc/master.cf" <<EOF
127.0.0.1:$PF_PORT inet n - n - - smtpd
pickup    unix  n       -       n       60      1       pickup
cleanup   unix  n       -       n       -       0       cleanup
qmgr      unix  n       -       n       300     1       qmgr
tlsmgr    unix  -       -       n       1000?   1       tlsmgr
rewrite   unix  -       -       n       -       -       trivial-rewrite
bounce    unix  -       -       n       -       0       bounce
defer     unix  -       -       n       -       0       bounce
trace     unix  -       -       n       -       0       bounce
verify    unix  -       -       n       -       1       verify
flush     unix  n       -       n       1000?   0       flush
proxymap  unix  -       -       n       -       -       proxymap
proxywrite unix -       -       n       -       1       proxymap
smtp      unix  -       -       n       -       -       smtp
relay     unix  -       -       n       -       -       smtp
showq     unix  n       -       n       -       -       showq
error     unix  -       -       n       -       -       error
retry     unix  -       -       n       -       -       error
discard   unix  -       -       n       -       -       discard
local     unix  -       n       n       -       -       local
virtual   unix  -       n       n       -       -       virtual
lmtp      unix  -       -       n       -       -       lmtp
anvil     unix  -       -       n       -       1       anvil
scache    unix  -       -       n       -       1       scache
postlog   unix-dgram n  -       n       -       1       postlogd
EOF
    # more listeners (each with its own -o smtpd_milters=...), one master.cf line each
    [ -n "${PF_EXTRA_LISTENERS:-}" ] && printf '%s\n' "$PF_EXTRA_LISTENERS" >>"$PF_DIR/etc/master.cf"
    # SASL: Debian's smtpd reads $config_directory/sasl/smtpd.conf; sasldb readable by postfix
    # and kept outside the config dir (postfix check wants everything there owned by root).
    cat >"$PF_DIR/etc/sasl/smtpd.conf" <<EOF
pwcheck_method: auxprop
auxprop_plugin: sasldb
mech_list: PLAIN LOGIN
sasldb_path: $PF_DIR/sasl/sasldb2
EOF
    local u
    for u in alice bob; do
        printf '%s' "${u}-secret" | saslpasswd2 -p -c -f "$PF_DIR/sasl/sasldb2" -u mta.test "$u" \
            || die "saslpasswd2 failed"
    done
    chown -R postfix "$PF_DIR/sasl"
    chmod 700 "$PF_DIR/sasl"
    postfix -c "$PF_DIR/etc" check >>"$MW_WORK/postfix-start.log" 2>&1 \
        || die "postfix check failed: $(tail -n 5 "$PF_DIR/maillog" "$MW_WORK/postfix-start.log")"
    postfix -c "$PF_DIR/etc" start >>"$MW_WORK/postfix-start.log" 2>&1 \
        || die "postfix start failed: $(tail -n 5 "$PF_DIR/maillog")"
    mw_on_exit pf_stop
    mw_wait_listen "$PF_PORT" 20 || die "postfix does not listen on $PF_PORT: $(tail -n 5 "$PF_DIR/maillog")"
    MTA=postfix MTA_PORT=$PF_PORT
}

pf_master_pid() { head -n1 "$PF_DIR/spool/pid/master.pid" 2>/dev/null | tr -d ' '; }

pf_stop() {
    [ -n "${PF_DIR:-}" ] && [ -f "$PF_DIR/etc/main.cf" ] || return 0
    local pid; pid=$(pf_master_pid)
    postfix -c "$PF_DIR/etc" stop >>"$MW_WORK/postfix-start.log" 2>&1
    if [ -n "$pid" ] && ! mw_wait_until 20 mw_pid_gone "$pid"; then
        postfix -c "$PF_DIR/etc" abort >>"$MW_WORK/postfix-start.log" 2>&1
        mw_wait_until 5 mw_pid_gone "$pid"
    fi
}

# Messages in the queue (maildrop, incoming, active, deferred, hold).
pf_queue_count() {
    find "$PF_DIR/spool/maildrop" "$PF_DIR/spool/incoming" "$PF_DIR/spool/active" \
         "$PF_DIR/spool/deferred" "$PF_DIR/spool/hold" -type f 2>/dev/null | wc -l
}
pf_queue_empty() { [ "$(pf_queue_count)" = 0 ]; }
pf_wait_queue_empty() { mw_wait_until "${1:-30}" pf_queue_empty; }
# pf_in_queue QID: true when the queue still holds QID.
pf_in_queue() { find "$PF_DIR/spool" -type f -name "$1" 2>/dev/null | grep -q .; }
pf_sendmail() { sendmail -C "$PF_DIR/etc" "$@"; }

# ---------------------------------------------------------------------------------------------
# Sendmail: an unpacked copy of Debian's packages (never installed: it conflicts with postfix),
# run in a private mount+UTS namespace with hostname mta.test and its own /etc/hosts.

: "${MW_SM_CACHE:=$MW_BUILDDIR/tests/integration-cache}"
SM_ROOT=$MW_SM_CACHE/sendmail-root
SM_BIN=$SM_ROOT/usr/libexec/sendmail/sendmail

# sm_prepare: makes sure the unpacked Sendmail is there. 1 (with SM_WHY) when it cannot be.
sm_prepare() {
    SM_WHY=""
    if [ ! -x "$SM_BIN" ] || [ ! -f "$SM_ROOT/usr/share/sendmail/cf/m4/cf.m4" ]; then
        local debs=$MW_SM_CACHE/debs
        mkdir -p "$debs"
        chmod 755 "$MW_SM_CACHE" "$debs"
        if ! ls "$debs"/sendmail-bin_*.deb "$debs"/sendmail-base_*.deb "$debs"/sendmail-cf_*.deb \
                >/dev/null 2>&1; then
            # a machine without package lists (never updated) gets them once
            (cd "$debs" && { apt-get download sendmail-bin sendmail-base sendmail-cf \
                || { apt-get update -qq && apt-get download sendmail-bin sendmail-base sendmail-cf; }; }) \
                >"$MW_WORK/sendmail-download.log" 2>&1 \
                || { SM_WHY="apt-get download sendmail-bin sendmail-base sendmail-cf failed: $(tail -n 1 "$MW_WORK/sendmail-download.log")"; return 1; }
        fi
        rm -rf "$SM_ROOT.tmp"
        mkdir -p "$SM_ROOT.tmp"
        local deb
        for deb in "$debs"/sendmail-bin_*.deb "$debs"/sendmail-base_*.deb "$debs"/sendmail-cf_*.deb; do
            dpkg -x "$deb" "$SM_ROOT.tmp" || { SM_WHY="dpkg -x $deb failed"; return 1; }
        done
        rm -rf "$SM_ROOT"
        mv "$SM_ROOT.tmp" "$SM_ROOT"
    fi
    [ -x "$SM_BIN" ] || { SM_WHY="no $SM_BIN after unpacking"; return 1; }
    if ldd "$SM_BIN" 2>/dev/null | grep -q 'not found'; then
        SM_WHY="sendmail lacks libraries ($(ldd "$SM_BIN" | grep 'not found' | awk '{ print $1 }' | tr '\n' ' ')): apt-get install libwrap0"
        return 1
    fi
    command -v m4 >/dev/null || { SM_WHY="m4 is not installed"; return 1; }
    unshare --mount --uts --propagation private true 2>/dev/null \
        || { SM_WHY="unshare --mount --uts is not permitted here"; return 1; }
    return 0
}

# SASL for Sendmail. Set SM_AUTH_USERS="user:password ..." before sm_start and Sendmail offers
# AUTH PLAIN LOGIN, checked against a private sasldb ($SM_DIR/sasl/sasldb2, users in realm
# mta.test; Sendmail hands the milter {auth_authen} as the client typed it, without realm).
# Cyrus reads Sendmail.conf only from the directories compiled into libsasl2 (and Sendmail has
# no option to point it elsewhere), so sm_sasl_conf_target picks the place in that path where
# our $SM_DIR/sasl2/Sendmail.conf is bind-mounted inside Sendmail's private mount namespace.
SM_AUTH_USERS=""
SM_SASL_PATH=/etc/sasl2:/etc/sasl:/usr/lib/x86_64-linux-gnu/sasl2:/usr/lib/sasl2

# sm_sasl_conf_target: prints "file PATH" (an existing Sendmail.conf to cover) or "dir PATH"
# (a directory to cover), the first place in Cyrus' config path that it would read; 1 when
# there is none. A directory holding the mechanism plugins (lib*.so*) is never covered.
sm_sasl_conf_target() {
    local lib path d
    lib=$(ldd "$SM_BIN" 2>/dev/null | awk '$1 ~ /^libsasl2\.so/ { print $3 }')
    # the config path compiled into the library, when it can be read from it
    path=$(strings "$lib" 2>/dev/null | grep -m1 -E '^/[^:]*sasl2?(:/[^:]*sasl2?)+$')
    [ -n "$path" ] || path=$SM_SASL_PATH
    local IFS=:
    for d in $path; do
        if [ -f "$d/Sendmail.conf" ]; then echo "file $d/Sendmail.conf"; return 0; fi
        [ -d "$d" ] || continue
        compgen -G "$d/lib*.so*" >/dev/null && continue
        echo "dir $d"
        return 0
    done
    return 1
}

# sm_sasl_setup: writes Sendmail.conf and the sasldb for SM_AUTH_USERS; sets SM_SASL_MOUNT.
sm_sasl_setup() {
    SM_SASL_MOUNT=""
    [ -n "$SM_AUTH_USERS" ] || return 0
    command -v saslpasswd2 >/dev/null || die "SM_AUTH_USERS needs saslpasswd2 (apt-get install sasl2-bin)"
    compgen -G '/usr/lib/*/sasl2/libplain.so*' >/dev/null \
        || die "SM_AUTH_USERS needs the PLAIN mechanism (apt-get install libsasl2-modules)"
    mkdir -p "$SM_DIR/sasl" "$SM_DIR/sasl2"
    # Sendmail's safefile checks: sasldb readable by its owner only, no group/world-writable dirs
    chmod 700 "$SM_DIR/sasl"
    chmod 755 "$SM_DIR/sasl2"
    cat >"$SM_DIR/sasl2/Sendmail.conf" <<EOF
pwcheck_method: auxprop
auxprop_plugin: sasldb
mech_list: PLAIN LOGIN
sasldb_path: $SM_DIR/sasl/sasldb2
EOF
    chmod 644 "$SM_DIR/sasl2/Sendmail.conf"
    local up
    for up in $SM_AUTH_USERS; do
        printf '%s' "${up#*:}" | saslpasswd2 -p -c -f "$SM_DIR/sasl/sasldb2" -u mta.test "${up%%:*}" \
            || die "saslpasswd2 for ${up%%:*} failed"
    done
    chmod 600 "$SM_DIR/sasl/sasldb2"
    local target
    target=$(sm_sasl_conf_target) \
        || die "none of the directories where Cyrus SASL looks for Sendmail.conf exists ($SM_SASL_PATH)"
    case $target in
        file\ *) SM_SASL_MOUNT="$SM_DIR/sasl2/Sendmail.conf ${target#file }" ;;
        dir\ *) SM_SASL_MOUNT="$SM_DIR/sasl2 ${target#dir }" ;;
    esac
    note "sendmail: AUTH PLAIN LOGIN for $(for up in $SM_AUTH_USERS; do printf '%s ' "${up%%:*}"; done)(Sendmail.conf bind-mounted on ${SM_SASL_MOUNT#* })"
}

sm_start() { # MILTER_PORT
    local milter_port=$1
    SM_DIR=$MW_WORK/sm
    mkdir -p "$SM_DIR"/{mqueue,etc}
    chmod 700 "$SM_DIR/mqueue"
    mw_port SM_PORT
    sm_sasl_setup
    printf 'hosts files\naliases files\n' >"$SM_DIR/etc/service.switch"
    printf '127.0.0.1 localhost mta.test\n::1 localhost mta.test\n' >"$SM_DIR/etc/hosts"
    printf 'nameserver 127.0.0.1\n' >"$SM_DIR/etc/resolv.conf"
    : >"$SM_DIR/etc/helpfile"
    : >"$SM_DIR/etc/nolog"
    local m
    {
        echo "divert(-1)"
        echo "divert(0)dnl"
        echo "OSTYPE(\`linux')dnl"
        echo "define(\`confDOMAIN_NAME', \`mta.test')dnl"
        echo "define(\`confDONT_PROBE_INTERFACES', \`True')dnl"
        echo "define(\`QUEUE_DIR', \`$SM_DIR/mqueue')dnl"
        echo "define(\`confPID_FILE', \`$SM_DIR/sendmail.pid')dnl"
        echo "define(\`STATUS_FILE', \`$SM_DIR/statistics')dnl"
        echo "define(\`HELP_FILE', \`$SM_DIR/etc/helpfile')dnl"
        echo "define(\`ALIAS_FILE', \`')dnl"
        echo "define(\`confSERVICE_SWITCH_FILE', \`$SM_DIR/etc/service.switch')dnl"
        echo "define(\`confHOSTS_FILE', \`$SM_DIR/etc/hosts')dnl"
        echo "define(\`confTO_IDENT', \`0s')dnl"
        echo "define(\`confCW_FILE', \`-o $SM_DIR/etc/local-host-names')dnl"
        echo "define(\`SMART_HOST', \`esmtp:[127.0.0.1]')dnl"
        for m in ESMTP SMTP SMTP8 DSMTP RELAY; do
            echo "define(\`${m}_MAILER_ARGS', \`TCP \$h $SINK_PORT')dnl"
        done
        echo "FEATURE(\`nocanonify')dnl"
        echo "FEATURE(\`accept_unresolvable_domains')dnl"
        echo "FEATURE(\`accept_unqualified_senders')dnl"
        echo "FEATURE(\`no_default_msa')dnl"
        if [ -n "$SM_AUTH_USERS" ]; then
            echo "define(\`confAUTH_MECHANISMS', \`PLAIN LOGIN')dnl"
            echo "TRUST_AUTH_MECH(\`PLAIN LOGIN')dnl"
        fi
        echo "DAEMON_OPTIONS(\`Port=$SM_PORT, Addr=127.0.0.1, Name=MTA')dnl"
        echo "INPUT_MAIL_FILTER(\`mailwarden', \`S=inet:$milter_port@127.0.0.1, F=T, T=C:10s;S:30s;R:30s;E:1m')dnl"
        echo "MAILER(\`smtp')dnl"
    } >"$SM_DIR/sendmail.mc"
    m4 -D_CF_DIR_="$SM_ROOT/usr/share/sendmail/cf/" "$SM_ROOT/usr/share/sendmail/cf/m4/cf.m4" \
        "$SM_DIR/sendmail.mc" >"$SM_DIR/sendmail.cf" 2>"$SM_DIR/m4.log" \
        || die "m4 failed: $(head -n 3 "$SM_DIR/m4.log")"
    # -bD: daemon in the foreground, so $! is sendmail's pid (unshare and sh exec into it).
    # SM_DEBUG is split into words on purpose.
    # shellcheck disable=SC2086
    unshare --mount --uts --propagation private /bin/sh -c '
        set -e
        hostname mta.test
        mount --bind "$1/etc/hosts" /etc/hosts
        mount --bind "$1/etc/resolv.conf" /etc/resolv.conf
        # keep its syslog lines out of the host log (it has no log file of its own)
        if [ -e /dev/log ]; then mount --bind "$1/etc/nolog" /dev/log || true; fi
        # SASL: our Sendmail.conf where Cyrus looks for it (see sm_sasl_setup)
        if [ -n "$3" ]; then mount --bind "$3" "$4"; fi
        dir=$1 bin=$2
        shift 4
        # what is left are debug flags (SM_DEBUG, e.g. -d64.5 for milter traffic, on stdout)
        exec "$bin" -C "$dir/sendmail.cf" -bD -q30s -X "$dir/traffic.log" -L sm-mta-test "$@"
    ' sm "$SM_DIR" "$SM_BIN" "${SM_SASL_MOUNT%% *}" "${SM_SASL_MOUNT#* }" ${SM_DEBUG:-} \
        >>"$SM_DIR/sendmail.log" 2>&1 &
    SM_PID=$!
    SM_MNTNS=""
    mw_on_exit sm_stop
    # The namespace is ours once the pid runs sendmail (unshare and sh exec into it).
    sm_in_own_ns() {
        local ns; ns=$(readlink "/proc/$SM_PID/ns/mnt" 2>/dev/null) || return 0
        [ "$ns" != "$(readlink /proc/self/ns/mnt)" ] && [ "$(readlink "/proc/$SM_PID/exe")" = "$SM_BIN" ]
    }
    mw_wait_until 10 sm_in_own_ns
    if ! mw_pid_gone "$SM_PID"; then
        SM_MNTNS=$(readlink "/proc/$SM_PID/ns/mnt")
        [ "$SM_MNTNS" != "$(readlink /proc/self/ns/mnt)" ] || SM_MNTNS=""
    fi
    mw_wait_listen "$SM_PORT" 30 || die "sendmail does not listen on $SM_PORT: $(tail -n 5 "$SM_DIR/sendmail.log")"
    MTA=sendmail MTA_PORT=$SM_PORT
}

# Our sendmail's processes: the daemon and every child it forked, found by the private mount
# namespace they share (nothing else lives in it).
sm_pids() {
    [ -n "${SM_MNTNS:-}" ] || return 0
    local p
    for p in /proc/[0-9]*; do
        [ "$(readlink "$p/ns/mnt" 2>/dev/null)" = "$SM_MNTNS" ] && echo "${p#/proc/}"
    done
}

sm_stop() {
    [ -n "${SM_PID:-}" ] || return 0
    mw_kill_wait "$SM_PID" 15
    local p
    # Delivery children outlive the daemon for a moment; give them time, then end them.
    mw_wait_until 10 sm_no_pids || for p in $(sm_pids); do kill -KILL "$p" 2>/dev/null; done
    SM_PID=""
}
sm_no_pids() { [ -z "$(sm_pids)" ]; }

# sm_swaks_queued_id OUT: Sendmail's queue id from "250 2.0.0 QID Message accepted for delivery"
sm_swaks_queued_id() {
    sed -nE 's/^ *<- +250 [0-9.]+ ([0-9A-Za-z]+) Message accepted for delivery.*/\1/p' "$1" | tail -n 1
}

# sm_session_pid FIXED: the pid of the last SMTP session in Sendmail's traffic log (-X, each
# line starts with the pid of the process that spoke) in which the client sent FIXED. Sendmail
# 8.12+ ends its queue ids with that process' pid (e.g. 6AM6Dfkw021603 from process 21603).
sm_session_pid() {
    # (the traffic log pads pids with zeros: print it as a plain decimal number)
    awk -v s="<<< $1" 'index($0, s) == length($1) + 2 { pid = $1 } END { if (pid != "") print pid + 0 }' \
        "$SM_DIR/traffic.log"
}

sm_queue_count() { find "$SM_DIR/mqueue" -type f \( -name 'qf*' -o -name 'df*' \) 2>/dev/null | wc -l; }
sm_queue_empty() { [ "$(sm_queue_count)" = 0 ]; }
sm_wait_queue_empty() { mw_wait_until "${1:-60}" sm_queue_empty; }

# MTA-neutral names for the tests that run on both.
mta_wait_queue_empty() {
    case $MTA in postfix) pf_wait_queue_empty "$@" ;; sendmail) sm_wait_queue_empty "$@" ;; esac
}
mta_queue_count() {
    case $MTA in postfix) pf_queue_count ;; sendmail) sm_queue_count ;; esac
}
mta_log() { # the file where this MTA logs
    case $MTA in postfix) echo "$PF_DIR/maillog" ;; sendmail) echo "$SM_DIR/traffic.log" ;; esac
}

# ---------------------------------------------------------------------------------------------
# mailwarden

# mw_policy FILE: writes a policy with the fixture's sections, then whatever comes on stdin.
# Knobs: MW_PORT (required), MW_GRACE (shutdown_grace, default 10s), MW_INTERNAL (networks).
# The control socket is FILE without .conf, then .control.sock (mw_ctl runs mailwarden-ctl on
# it), not the packaged /run/mailwarden/control.sock.
mw_policy() {
    local f=$1 internal=${MW_INTERNAL:-'"192.0.2.0/24"'}
    {
        cat <<EOF
# written by tests/integration ($MW_TEST)
milter: {
  socket = "inet:$MW_PORT@127.0.0.1"
  timeout = "30s"
  shutdown_grace = "${MW_GRACE:-10s}"
}
log: {
  level = "${MW_LOGLEVEL:-info}"
  summary = true
}
authres: {
  authserv_id = "mw.test"
  remove_forged = true
}
networks: {
  # the MTAs connect from 127.0.0.1: keep it out of internal so test mail is inbound
  internal = [ $internal ]
}
dns: {
  nameservers = [ "127.0.0.1@${DNS_PORT:-53}" ]
  timeout = "2s"
  use_hosts = false
}
# one line: tests add milter options after the line "  socket = ..."
control: { socket = "${f%.conf}.control.sock" }
EOF
        cat
    } >"$f"
}

# mw_ctl COMMAND [ARG]: mailwarden-ctl on the control socket of the daemon mw_start started.
mw_ctl() { "$MW_BUILDDIR/filter/mailwarden-ctl" -s "${MW_CONF%.conf}.control.sock" "$@"; }

# mw_start CONF: starts the daemon in the foreground (background job), stderr to $MW_LOG.
mw_start() {
    MW_CONF=$1
    MW_LOG=$MW_WORK/mailwarden.log
    if [ "${MW_FAKE_MILTER:-0}" = 1 ]; then
        "$MW_PY" "$MW_HELPERS/fake-milter.py" -f -c "$MW_CONF" >>"$MW_LOG" 2>&1 &
    else
        [ -x "$MW_BIN" ] || die "no daemon at $MW_BIN (build it first)"
        # The policy the test wrote must pass `mailwarden -t`; say so plainly when it does not.
        timeout 30 "$MW_BIN" -t -c "$MW_CONF" >"$MW_WORK/mailwarden-t.log" 2>&1 \
            || die "mailwarden -t rejects the test policy (exit $?): $(head -c 600 "$MW_WORK/mailwarden-t.log" | tr '\n' '|')"
        "$MW_BIN" -f -c "$MW_CONF" >>"$MW_LOG" 2>&1 &
    fi
    MW_PID=$!
    MW_EXIT=""
    mw_on_exit mw_stop_quiet
    local port=${MW_SOCKET_PATH:-$MW_PORT}
    if ! mw_wait_until 20 mw_ready "$port"; then
        mw_pid_gone "$MW_PID" && { wait "$MW_PID"; MW_EXIT=$?; }
        die "mailwarden did not listen on $port (exit ${MW_EXIT:-none}): $(tail -n 5 "$MW_LOG")"
    fi
}
# pf_mw_start POLICY-WRITER: the usual Postfix rig: the stub DNS server (DNS_PORT), a milter
# port (MW_PORT), the policy that the shell function POLICY-WRITER writes to the file it is
# given (it may use MW_PORT and DNS_PORT), mailwarden on it, the sink and Postfix in front.
pf_mw_start() {
    dns_start
    mw_port MW_PORT
    "$1" "$MW_WORK/mailwarden.conf"
    mw_start "$MW_WORK/mailwarden.conf"
    sink_start
    pf_start "$MW_PORT"
}

# $1 is a TCP port or the path of a unix socket
mw_ready() {
    ! mw_pid_gone "$MW_PID" || return 1
    case $1 in
        /*) [ -S "$1" ] ;;
        *) mw_port_listening "$1" ;;
    esac
}
mw_alive() { [ -n "${MW_PID:-}" ] && ! mw_pid_gone "$MW_PID"; }
mw_hup() { kill -HUP "$MW_PID"; }
mw_term() { kill -TERM "$MW_PID"; }
# mw_wait_exit [TIMEOUT]: waits for the daemon to exit, sets MW_EXIT (or returns 1 on timeout).
mw_wait_exit() {
    mw_wait_until "${1:-40}" mw_pid_gone "$MW_PID" || return 1
    wait "$MW_PID"; MW_EXIT=$?
    MW_PID=""
    return 0
}
# mw_stop: SIGTERM and wait; 0 when it exited with status 0 and within the time.
mw_stop() {
    [ -n "${MW_PID:-}" ] || return 0
    if mw_pid_gone "$MW_PID"; then
        wait "$MW_PID"; MW_EXIT=$?; MW_PID=""
        why "mailwarden had already exited with status $MW_EXIT"; return 1
    fi
    mw_term
    if ! mw_wait_exit 40; then
        kill -KILL "$MW_PID" 2>/dev/null; wait "$MW_PID" 2>/dev/null; MW_PID=""
        why "mailwarden did not exit within 40 s of SIGTERM"; return 1
    fi
    [ "$MW_EXIT" = 0 ] || { why "mailwarden exited with status $MW_EXIT after SIGTERM"; return 1; }
}
mw_stop_quiet() { mw_stop >/dev/null 2>&1 || true; }

# mw_sanitizer_clean: 1 when the daemon's log holds a sanitizer report. Once a test has checked
# after the daemon stopped, the exit trap does not check again.
MW_SAN_CHECKED=0
mw_sanitizer_clean() {
    [ -n "${MW_PID:-}" ] || MW_SAN_CHECKED=1
    assert_not_contains "$MW_LOG" 'ERROR: AddressSanitizer|runtime error:|ERROR: LeakSanitizer'
}

# mw_finish NAME: the last check of a test file: the daemon is still running, stops on SIGTERM
# with status 0, and its log has no sanitizer report.
mw_finish() {
    local name=$1 why=""
    if ! mw_alive; then
        why="mailwarden died during the test"
        if [ -n "${MW_PID:-}" ]; then
            wait "$MW_PID"; MW_EXIT=$?; MW_PID=""
            why="$why (exit status $MW_EXIT)"
        fi
    elif ! mw_stop; then
        why=$MW_WHY
    fi
    mw_sanitizer_clean 2>/dev/null || why="${why:+$why; }$MW_WHY"
    if [ -z "$why" ]; then
        pass "$name"
    else
        fail "$name" "$why; log: $(tail -n 3 "$MW_LOG" | tr '\n' ' ')"
    fi
}

# ---------------------------------------------------------------------------------------------
# clients

# mw_msg FILE TOKEN [EXTRA_HEADER_LINES...]: writes a small RFC 5322 message (CRLF-free, swaks
# and sendmail convert) with X-MW-Test-Id: TOKEN, for finding it in the sink.
mw_msg() {
    local f=$1 token=$2; shift 2
    {
        printf 'From: Alice <alice@example.test>\n'
        printf 'To: Bob <bob@remote.test>\n'
        printf 'Subject: mailwarden integration test %s\n' "$token"
        printf 'Date: %s\n' "$(date -R)"
        printf 'Message-ID: <%s@example.test>\n' "$token"
        printf 'X-MW-Test-Id: %s\n' "$token"
        local h; for h in "$@"; do printf '%s\n' "$h"; done
        printf '\nHello Bob,\n\nthis is test message %s.\n' "$token"
    } >"$f"
}

# mw_swaks OUT ARGS...: swaks against the MTA under test; output to OUT, returns swaks' status.
mw_swaks() {
    local out=$1; shift
    swaks --server 127.0.0.1 --port "$MTA_PORT" --helo client.test --timeout 60 "$@" >"$out" 2>&1
}

# The reply lines swaks flagged as errors (`<** ...`) and the last server reply.
swaks_errors() { grep -E '^ *<\*\* ' "$1" | sed -E 's/^ *<\*\* //'; }
swaks_queued_id() { # the Postfix queue id from "250 2.0.0 Ok: queued as QID"
    sed -nE 's/^ *<- +250 .*queued as ([0-9A-Za-z]+).*/\1/p' "$1" | tail -n 1
}
