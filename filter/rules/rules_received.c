/* rules_received.c - reads one Received line as SpamAssassin 4.0.1's parse_received_line does
 * (Message/Metadata/Received.pm, read for the formats it knows; the code is ours): the same
 * formats tried in the same order, so that each MTA's line gives the same ip, rdns, helo, by,
 * ident, envfrom, id and auth as SpamAssassin finds, and the same lines are ignored or left
 * unparseable. The patterns are Perl regexes, compiled once per process with PCRE2 and run
 * under a match limit (a line that exhausts it simply does not match that format). */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>

#include "rules_received.h"
#include "util.h"

/* SpamAssassin's Constants.pm: IPV4_ADDRESS, IP_ADDRESS, LOCALHOST, IP_PRIVATE */
#define OCTET "(?:1\\d\\d|2[0-4]\\d|25[0-5]|[1-9]\\d|\\d)"
#define V4 OCTET "\\." OCTET "\\." OCTET "\\." OCTET
#define H "[a-f0-9]{1,4}"
#define IPV6_START "(?:IPv6:|(?<![a-f0-9:]))"
#define IP "(?i:\\b(?<!:)" V4 "\\b|" IPV6_START "(?:(?:(?:" H ":){6}|::(?:" H ":){0,5}" \
    "|(?:" H ":){1,5}:|" H "::(?:" H ":){1,4}|(?:" H ":){2}:(?:" H ":){1,3}" \
    "|(?:" H ":){3}:(?:" H ":){1,2}|(?:" H ":){4}:" H ":)" V4 \
    "|(?:" H ":){7}" H "|:(?::" H "){1,7}|(?:" H ":){1,7}:|" H ":(?::" H "){1,6}" \
    "|(?:" H ":){2}(?::" H "){1,5}|(?:" H ":){3}(?::" H "){1,4}|(?:" H ":){4}(?::" H "){1,3}" \
    "|(?:" H ":){5}(?::" H "){1,2}|(?:" H ":){6}:" H "|::)(?![a-f0-9:]))"
#define Z "0{1,4}"
#define MAPPED_PREFIX "(?:(?:" Z ":){5}ffff:|::(?:" Z ":){0,4}ffff:|(?:" Z ":){1,4}:ffff:" \
    "|" Z "::(?:" Z ":){1,3}ffff:|(?:" Z ":){2}:0{1,2}:ffff:|(?:" Z ":){3}:0:ffff:" \
    "|(?:" Z ":){4}:ffff:)"
#define LOOPBACK6 "(?:" Z ":){7}0{0,3}1|:(?::" Z "){0,6}:0{0,3}1|" Z ":(?::" Z "){0,5}:0{0,3}1" \
    "|(?:" Z ":){2}(?::" Z "){0,4}:0{0,3}1|(?:" Z ":){3}(?::" Z "){0,3}:0{0,3}1" \
    "|(?:" Z ":){4}(?::" Z "){0,2}:0{0,3}1|(?:" Z ":){5}(?::" Z "){0,1}:0{0,3}1" \
    "|(?:" Z ":){6}:0{0,3}1"
#define LOCALHOST "(?i:localhost(?:\\.localdomain)?|\\b(?<!:)127\\.0\\.0\\.1\\b|" IPV6_START \
    "(?:" MAPPED_PREFIX "127\\.0\\.0\\.1|" LOOPBACK6 ")(?![a-f0-9:]))"
#define PRIVATE_V4 "(?:10|127|169\\.254|172\\.(?:1[6-9]|2[0-9]|3[01])|192\\.168" \
    "|100\\.(?:6[4-9]|[7-9][0-9]|1[01][0-9]|12[0-7]))\\..*"
#define IP_PRIVATE "^(?i:" PRIVATE_V4 "|" IPV6_START "(?:" MAPPED_PREFIX PRIVATE_V4 \
    "|fe[89ab][0-9a-f]:.*|" LOOPBACK6 ")(?![a-f0-9:]))"

#define MATCH_LIMIT 200000
#define MAX_GROUPS 10

struct rx {
    const char *source;
    uint32_t options;
    pcre2_code *code;
};

static pthread_mutex_t rx_lock = PTHREAD_MUTEX_INITIALIZER;

static const pcre2_code *rx_code(struct rx *r)
{
    pcre2_code *code = __atomic_load_n(&r->code, __ATOMIC_ACQUIRE);
    if (code != NULL)
        return code;
    pthread_mutex_lock(&rx_lock);
    if (r->code == NULL) {
        int err;
        PCRE2_SIZE off;
        code = pcre2_compile((PCRE2_SPTR)r->source, PCRE2_ZERO_TERMINATED, r->options, &err,
            &off, NULL);
        if (code == NULL)
            abort();          /* a pattern of ours that does not compile: a bug, found by tests */
        (void)pcre2_jit_compile(code, PCRE2_JIT_COMPLETE);   /* faster when it can */
        __atomic_store_n(&r->code, code, __ATOMIC_RELEASE);
    }
    pthread_mutex_unlock(&rx_lock);
    return r->code;
}

/* pcre2_match, again without JIT when the JIT stack runs out (the interpreter has no such
 * limit; the match limit bounds both). */
static int run_match(const pcre2_code *code, const char *subject, pcre2_match_data *md,
    pcre2_match_context *mctx)
{
    size_t len = strlen(subject);
    int rc = pcre2_match(code, (PCRE2_SPTR)subject, len, 0, 0, md, mctx);
    if (rc == PCRE2_ERROR_JIT_STACKLIMIT)
        rc = pcre2_match(code, (PCRE2_SPTR)subject, len, 0, PCRE2_NO_JIT, md, mctx);
    return rc;
}

/* One parse: the text being read (SpamAssassin's $_) and the last match's groups. */
struct parse {
    char *text;
    pcre2_match_data *md;
    pcre2_match_context *mctx;
    const char *subject;       /* what the last match ran on */
    int rc;                    /* its pcre2_match result: groups below it may be set */
};

static bool rx_match_on(struct parse *p, struct rx *r, const char *subject)
{
    p->subject = subject;
    p->rc = run_match(rx_code(r), subject, p->md, p->mctx);
    return p->rc > 0;
}

static bool m(struct parse *p, struct rx *r)
{
    return rx_match_on(p, r, p->text);
}

/* Group i of the last match, malloc'd; NULL when it did not take part. */
static char *group(const struct parse *p, int i)
{
    PCRE2_SIZE *ov = pcre2_get_ovector_pointer(p->md);
    if (i >= MAX_GROUPS || i >= p->rc || ov[2 * i] == PCRE2_UNSET)
        return NULL;
    return xstrndup(p->subject + ov[2 * i], ov[2 * i + 1] - ov[2 * i]);
}

static void set(char **field, char *value)
{
    free(*field);
    *field = value != NULL ? value : xstrdup("");
}

/* Removes from s the text the last match (which ran on s) covered. */
static void cut_match_in(struct parse *p, char *s)
{
    PCRE2_SIZE *ov = pcre2_get_ovector_pointer(p->md);
    memmove(s + ov[0], s + ov[1], strlen(s + ov[1]) + 1);
}

#define RX(src) { src, 0, NULL }
#define RXI(src) { src, PCRE2_CASELESS, NULL }

/* The patterns, in the order parse_received_line tries them. */
static struct rx
    re_from_start = RXI("^\\(?from "),
    re_with_local_for = RX("\\bwith local for\\b"),
    re_from_by_only = RXI("^from (\\S+) by [^\\s;]+ ?;"),
    re_bracket_v4 = RX("^\\[[\\d.]+\\]$"),
    re_date = RX("[\\s;]+(?:(?:Mon|T(?:ue|hu)|Wed|Fri|S(?:at|un)), )?\\d+ (?:J(?:an|u[nl])|Feb"
        "|Ma[ry]|A(?:pr|ug)|Sep|Oct|Nov|Dec) \\d+ \\d+:\\d+(?::\\d+)? \\S+$"),
    re_id = RX(" id <?([^\\s<>;]{3,})"),
    re_helo_eq = RX("\\bhelo=([-A-Za-z0-9\\.\\^+_&:=?!@%*\\$\\\\/]+)"
        "(?:[^-A-Za-z0-9\\.\\^+_&:=?!@%*\\$\\\\/]|$)"),
    re_helo_word = RX("\\b(?:HELO|EHLO) ([-A-Za-z0-9\\.\\^+_&:=?!@%*\\$\\\\/]+)"
        "(?:[^-A-Za-z0-9\\.\\^+_&:=?!@%*\\$\\\\/]|$)"),
    re_by = RX(" by (\\S+)(?:[^-A-Za-z0-9\\;\\.]|$)"),
    re_space_by = RX(" by "),
    re_auth_with = RXI(" with ((?:ES|L|UTF8S|UTF8L)MTPS?A|ASMTP|HTTP[SU]?)(?: |;|$)"),
    re_auth_gmail = RX(" by mx\\.google\\.com with ESMTPS id [a-z0-9]{1,4}sm[0-9]{2,9}[a-z]{3}"
        "\\.[0-9]{1,3}\\.[0-9]{4}\\.(?:[0-6][0-9]\\.){4}[0-6][0-9]"),
    re_auth_gmail_tls = RX("\\(version=([^ ]+) cipher=([^\\)]+)\\)"),
    re_auth_courier = RX("^from .*?(?:\\]\\)|\\)\\]) \\(AUTH: (LOGIN|PLAIN|DIGEST-MD5|CRAM-MD5)"
        " \\S+(?:, .*?)?\\) by "),
    re_authenticated = RX("authenticated"),
    re_auth_sendmail = RX("^from .*?(?:\\](?: \\([^)]*\\))?\\)|\\)\\]) .*?\\(.*?authenticated"
        ".*?\\).*? by"),
    re_auth_gmx = RX("from \\S* \\((?:HELO|EHLO) (\\S*)\\) \\[(" IP ")\\] by (mail\\.gmx\\."
        "(?:net|com)) \\([^\\)]+\\) with ((?:ESMTP|SMTP))"),
    re_authenticated_as = RX(" \\(authenticated as "),
    re_auth_criticalpath = RX("\\) by .+ \\(\\d{1,2}\\.\\d\\.\\d{3}(?:\\.\\d{1,3})?\\) "
        "\\(authenticated as .+\\) id "),
    re_auth_postfix = RX("\\) \\(Authenticated sender: \\S+\\) by \\S+ \\(([^\\)]+)\\) with "),
    re_communigate = RX("CommuniGate Pro (HTTP|SMTP|XIMSS|IMAP)"),
    re_account = RX(" \\(account "),
    re_http_dav = RX(" with Microsoft Exchange Server HTTP-DAV\\b"),
    re_via_http = RXI(" \\(via (HTTP.?)\\)(?: |;|$)"),
    re_strip_from = RX("^from "),
    re_strip_FROM = RX("^FROM "),
    re_strip_paren_from = RX("^\\(from "),
    re_envfrom = RXI("(?:return-path:? |envelope-(?:sender|from)[ =])(\\S+)\\b"),
    re_squirrel = RX(" \\((?:SquirrelMail|NaSMail) authenticated user "),
    re_squirrel_ip = RX("(" IP ")\\b(?![.-]).{10,80}by (\\S+) with HTTP"),
    re_aol = RX("aol\\.com"),
    re_aol_webmail = RX("with HTTP \\(WebMailUI\\)"),
    re_aol_fields = RX("(" IP ") by (\\S+) \\(" IP "\\) with HTTP \\(WebMailUI\\)"),
    re_smtpsvc = RX(" SMTPSVC"),
    re_smtpsvc_fields = RX("^(\\S*) \\(\\[(" IP ")\\][^\\)]{0,40}\\) by (\\S+) with Microsoft"
        " SMTPSVC"),
    re_pickup = RX("^mail pickup service by (\\S+) with Microsoft SMTPSVC$"),
    re_mssmtp = RX(" with (?:Microsoft SMTP Server|mapi id) (?:\\([^\\)]+\\) )?"
        "\\d+\\.\\d+\\.\\d+\\.\\d+(?:$| )"),
    re_mssmtp_fields = RX("^(\\S+) \\(\\[?(" IP ")(?:%[A-Z0-9._~-]*)?\\]?\\) by (\\S+) "),
    re_xmail = RX("\\[XMail "),
    re_xmail_fields = RX("^(\\S+) \\((\\[?" IP "\\]?)(?::\\d+)\\) by (\\S+)(?: \\(\\S+\\))? "
        "with \\[XMail"),
    re_xmail_id = RX(" id <(\\S+)>"),
    re_xmail_from = RX(" from <(\\S+)>"),
    re_ecelerity = RX("\\(ecelerity\\b"),
    re_ecelerity_helo = RX("^\\(\\[(" IP "):\\d+\\] helo=(\\S+)\\) by (\\S+) "),
    re_ecelerity_plain = RX("^\\S+ \\(\\[(" IP "):\\d+\\]\\) by (\\S+) "),
    re_exim = RX("Exim"),
    re_exim_local = RX("\\bwith local(?:-\\S+)? "),
    re_exim_ip_sub = RX("^\\[(" IP ")\\] \\((.*?)\\) by (\\S+) "),
    re_exim_rdns_sub = RX("^(\\S+) \\(\\[(" IP ")\\](.*?)\\) by (\\S+) "),
    re_exim_bracket = RX("^(\\S+) \\[(" IP ")\\](:\\d+)? by (\\S+) "),
    re_sub_helo = RX("helo=(\\S+)"),
    re_sub_ident = RX("ident=(\\S*)"),
    re_exim_odd_rdns = RX("^(\\S+) "),
    re_exim_odd_helo = RX(" \\((\\S+)\\) "),
    re_exim_odd_ip = RX(" \\[(" IP ")(?:\\.\\d+)?\\] "),
    re_exim_odd_by = RX("by (\\S+) "),
    re_postfix = RX(" \\(Postfix\\) with"),
    re_postfix_fields = RX("^(\\S+) \\((\\S+) \\[(" IP ")\\]\\) by (\\S+) "),
    re_postfix_pobox = RX("^(\\S+) \\((\\S+)\\[(" IP ")\\]\\) by (\\S+) "),
    re_scalix = RX("\\(Scalix SMTP Relay"),
    re_scalix_fields = RX("^(\\S+) \\( ?(" IP ")\\) by (\\S+)"),
    re_domino = RX(" \\(Lotus Domino "),
    re_domino_fields = RX("^(\\S+) \\(\\[(" IP ")\\]\\) by (\\S+) \\(Lotus"),
    re_with_http = RX("\\bwith HTTP\\b"),
    re_http_numeric = RX("^(" IP ") \\(\\[" IP "\\]\\) by (\\S+)"),
    re_qmail_ldap = RX(" by \\S+ \\(qmail-\\S+\\) with "),
    re_sendmail = RX("^(\\S+) \\((\\S+) \\[(" IP ")\\].*\\) by (\\S+) \\("),
    re_ident_prefix = RX("^IDENT:([^@]*)@"),
    re_user_prefix = RX("^([^@]*)@"),
    re_exchange55 = RX("^(\\S+) \\((\\S+) \\[(" IP ")\\]\\) by (\\S+) with \\S+ \\("),
    re_gsi = RX("^(\\S+) \\(\\[(" IP ")\\] helo=(\\S+)\\) by (\\S+) with "),
    re_attbi_unknown = RX("^(\\S+) \\(<unknown\\S*>\\[(" IP ")\\]\\) by (\\S+) "),
    re_attbi = RX("^(\\S+) \\((\\S+\\.\\S+)\\[(" IP ")\\]\\) by (\\S+) "),
    re_ident_at = RX("^(\\S+) \\((\\S*)@\\[(" IP ")\\].*\\) by (\\S+) \\("),
    re_hotmail_msn = RX("by (\\S+\\.hotmail\\.msn\\.com) "),
    re_leading_ip = RX("^(" IP ") "),
    re_qpsmtpd = RX("^(\\S+) \\((?:HELO|EHLO) (\\S*)\\) \\((" IP ")\\) by (\\S+) \\(qpsmtpd/\\S+\\)"
        " with (?:ESMTP|SMTP)"),
    re_lmtp = RX("^(\\S+) \\(LHLO (\\S*)\\) \\((" IP ")\\) by (\\S+) with LMTP"),
    re_gmx_helo = RX("^(\\S+) \\((?:HELO|EHLO) (\\S*)\\) \\[(" IP ")\\] by (\\S+) \\([^\\)]+\\) "
        "with (?:ESMTP|SMTP)"),
    re_smtpd_for = RX("^(\\S+) \\(\\[(" IP ")\\]\\) by (\\S+) via smtpd \\(for \\S+\\) with SMTP\\("),
    re_qmail = RX("^\\S+( \\((?:HELO|EHLO) \\S*\\))? \\((\\S+@)?\\[?" IP "\\]?\\)( \\(envelope-"
        "sender <\\S+>\\))? by \\S+( \\(.+\\))* with (.* )?(SMTP|QMQP)(?! id )"),
    re_qmail_helo_ident = RX("^(\\S+) \\((?:HELO|EHLO) ([^ \\(\\)]*)\\) \\((\\S*)@\\[?(" IP ")\\]?"
        "\\)( \\(envelope-sender <\\S+>\\))? by (\\S+)"),
    re_qmail_helo = RX("^(\\S+) \\((?:HELO|EHLO) ([^ \\(\\)]*)\\) \\(\\[?(" IP ")\\]?\\)( \\("
        "envelope-sender <\\S+>\\))? by (\\S+)"),
    re_qmail_ident = RX("^(\\S+) \\((\\S*)@\\[?(" IP ")\\]?\\)( \\(envelope-sender <\\S+>\\))? "
        "by (\\S+)"),
    re_qmail_plain = RX("^(\\S+) \\(\\[?(" IP ")\\]?\\)( \\(envelope-sender <\\S+>\\))? by (\\S+)"),
    re_via_http_end = RX(" via HTTP$"),
    re_yahoo_http = RX("^\\[(" IP ")\\] by (\\S+) via HTTP$"),
    re_space_bracket = RX("^(\\S+) \\( \\[(" IP ")\\]\\).*? by (\\S+) "),
    re_paren_rdns_ip = RX("^\\((\\S+) \\[(" IP ")\\]\\) by (\\S+) "),
    re_bracket_ip_by = RX("^\\[(" IP ")\\] by (\\S+) "),
    re_paren_ip_by = RX("^\\(\\[?(" IP ")\\]?\\) by (\\S+) "),
    re_mdaemon = RX("^(\\S+) \\[(" IP ")\\] by (\\S+) \\[" IP "\\] with "),
    re_mdaemon19 = RX("^(\\S+) \\[\\((" IP ")\\)\\] by (\\S+) \\(" IP "\\) "),
    re_sendmail_norev = RX("^(\\S+) \\(\\[(" IP ")\\]\\) by (\\S+) \\("),
    re_sendmail_lax = RX("^(\\S+) \\((\\S+) \\[(" IP ")\\]\\).*? by (\\S+)\\b"),
    re_port_ip = RX("^(\\S+) \\(\\[(" IP ")(?:[.:]\\d+)?\\]\\).*? by (\\S+) "),
    re_sendmail_auth = RX("^(\\S+) \\((\\S+) \\[(" IP ")\\]\\)(?: \\(authenticated bits=\\d+\\))? "
        "by (\\S+) \\("),
    re_fetcher = RX("with (?:POP3|IMAP)"),
    re_qmailish_helo = RX("^(\\S+) \\((?:HELO|EHLO) ([^\\)]*)\\) \\((\\S*@)?\\[?(" IP ")\\]?\\).* "
        "by (\\S+) "),
    re_qmailish = RX("^(\\S+) \\((\\S*@)?\\[?(" IP ")\\]?\\).* by (\\S+) "),
    re_with_http_for = RX(" with http for "),
    re_outblaze = RX("^\\[(" IP ")\\] by (\\S+) with http for "),
    re_via_smap = RX(" via smap "),
    re_smap = RX("^(\\S+)\\((" IP ")\\) by (\\S+) via smap "),
    re_smap_helo = RX("^(\\S+)\\((" IP "), (?:HELO|EHLO) (\\S*)\\) by (\\S+) via smap "),
    re_post = RX(" \\(Post"),
    re_post_office = RX("^\\[(" IP ")\\] by (\\S+) \\(Post"),
    re_argosoft = RX(" \\(ArGoSoft"),
    re_argosoft_fields = RX("^\\[(" IP ")\\] by (\\S+) \\(ArGoSoft"),
    re_interscan = RX("^(" IP ") by (\\S+) \\((?:SMTPL|InterScan)\\b"),
    re_bsmtp = RX(" with BSMTP"),
    re_bsmtp_fields = RX("^\\S+ by \\S+ with BSMTP"),
    re_spike = RX("^(\\S+) \\((\\S+) \\[(" IP ")\\]\\) by (\\S+) with "),
    re_yahoo_helo = RX("^(\\S+) \\((?:HELO|EHLO) (\\S*)\\) \\((?:(\\S+)@)?(" IP ").*?\\) by (\\S+) "
        "with "),
    re_communigate_acct = RX("^\\[(" IP ")\\] \\((?:account \\S+ )?(?:HELO|EHLO) (\\S*)\\) by (\\S+)"
        " \\("),
    re_communigate_pro = RX(" \\(CommuniGate Pro"),
    re_communigate_verified = RX("^(\\S+) \\(\\[(" IP ")\\] verified\\) by (\\S+) \\("),
    re_ciphertrust = RX("^\\(\\[(" IP ")\\]\\) by (\\S+) with "),
    re_ironport = RX("^([^\\d]\\S+) \\((" IP ")\\) by (\\S+) "),
    re_content_tech = RX("^\\S+ \\(\\S+\\) by \\S+ \\(Content Technologies "),
    re_double_ip = RX("^(\\S+) \\(\\[(" IP ")\\] \\[(\\S+)\\]\\) by (\\S+) with "),
    re_ip_by_with = RX("^(" IP ") by (\\S+) with "),
    re_pobox = RX("^(\\S+) \\((\\S+)\\[(" IP ")\\]\\) by (\\S+) "),
    re_fsecure = RX("^\\[(" IP ")\\]\\S+ \\((?:HELO|EHLO) (\\S*)\\) by (\\S+) "),
    re_altavista = RX("^(" IP ") \\((?:HELO|EHLO) (\\S*)\\) by (\\S+) "),
    re_smtpd32 = RX("^(\\S+) \\[(" IP ")\\] by (\\S+) "),
    re_csmap = RX("^(\\S+)\\((" IP ")\\) by (\\S+) "),
    re_mailgate = RX("^\\[(" IP ")\\] by (\\S+) \\(MailGate "),
    re_unverified = RX("^(\\S+) \\(unverified \\[(" IP ")\\]\\) by (\\S+) "),
    re_ip_comment = RX("^(" IP ") \\([A-Za-z][^\\)]+\\) by (\\S+) with "),
    re_bracket_sub = RX("^\\[(" IP ")\\] \\(([^\\)]+)\\) by (\\S+) "),
    re_kde = RX("^(\\S+) \\((?:\\S+@)?(" IP ")\\) by (\\S+) with "),
    re_obtuse = RX("^(\\S+)\\((" IP ")\\)(?:, claiming to be \"(\\S+)\")? via \\S+ by (\\S+),"),
    re_yahoo_login = RX("^(\\S+) \\((\\S+)@(" IP ") with login\\) by (\\S+\\.yahoo\\.com) with SMTP"),
    re_x_originating = RX("^X-Originating-IP: (" IP ")$"),
    re_ign_local_user = RX("^\\S+ \\([^\\s@]+@" LOCALHOST "\\) by \\S+ \\("),
    re_ign_local_esmtp = RX("^\\S+ \\S+ by \\S+ with local-e?smtp "),
    re_ign_avg = RX("^127\\.0\\.0\\.1 \\(AVG SMTP \\S+ \\[\\S+\\]\\)"),
    re_ign_qs_uid = RX("^\\S+@\\S+ by \\S+ by uid \\S+ "),
    re_ign_addr_by = RX("^\\S+@\\S+ by \\S+ "),
    re_ign_unknown_local = RX("^Unknown/Local \\("),
    re_ign_localhost = RX("^" LOCALHOST " \\((?:\\S+@)?" LOCALHOST "[\\)\\[]"),
    re_ign_localhost_ip = RX("^\\S+ \\((?:\\S+@)?" LOCALHOST "\\) "),
    re_ign_user_localhost = RX("^\\S+ \\(\\S+@\\S+ \\[" LOCALHOST "\\]\\) "),
    re_ign_auth = RX("^\\(AUTH: \\S+\\) by \\S+ with "),
    re_ign_unix = RX("^localhost \\(localhost \\[\\[UNIX: localhost\\]\\]\\) by "),
    re_ign_amazon = RX("^\\S+\\.amazon\\.com by \\S+\\.amazon\\.com with ESMTP \\(peer crosscheck: "),
    re_ign_groupwise = RX("^[^\\.]+ by \\S+ with Novell_GroupWise"),
    re_ign_raptor = RX("^no\\.name\\.available by \\S+ via smtpd \\(for "),
    re_ign_qmail_scanner = RX("^\\S+ by \\S+ \\(.{0,100}\\) with qmail-scanner"),
    re_ign_with_local = RX("^\\S+ by \\S+ with local"),
    re_ign_cyrus = RX("^\\S+ \\(\\[unix socket\\]\\) by \\S+ \\(Cyrus v[0-9]*?\\.[0-9]*?\\.[0-9]*?\\)"
        " with LMTPA"),
    re_ign_pmdf = RX("^\\S+ by \\S+ (?:with|via|for|\\()"),
    re_ign_sieved = RX("^\\S+ (?:(?:with|via|for) \\S+|\\(unverified\\)) by\\b"),
    re_ign_sendgrid = RX("^\\S+ \\(unknown\\) by \\S+ \\(SG\\) with \\b"),
    re_ign_opensmtpd = RX("^\\S+ \\(\\S+ \\[local\\]\\) by \\S+ \\(OpenSMTPD\\) with \\b"),
    re_ign_lsmtp = RX("\\(LSMTP for"),
    re_ign_mailenable = RX("^\\(\\[" LOCALHOST "\\]\\) with MailEnable "),
    re_ign_facebook = RX("^facebook\\.com \\([^\\)]+\\) by facebook\\.com with Thrift id \\S+$"),
    re_ign_gmailapi = RX("^\\S+ named \\S+ by gmailapi\\.google\\.com with HTTPREST$"),
    re_ign_id_only = RX("^\\S+ id \\S+$"),
    re_ign_jetsend = RX("^\\[<.*? \\(Jetsend"),
    re_guess_helo = RX("^(\\S+)[^-A-Za-z0-9\\.]"),
    re_simta = RX("^(\\S+) \\((\\S+) \\[(" IP ")\\]\\) BY (\\S+) (?:\\([^\\)]+\\) WITH SMTP )?"
        "ID <?(\\S+?)>?(?: FOR <[^>]+>)?$"),
    re_navgw = RX("^(\\S*) \\[(" IP ")\\]\\) by (\\S+) \\(NAVGW .*?\\) with "),
    re_ign_sendmail_t = RX("^\\S+@localhost\\) by \\S+ "),
    re_ign_jqueuemail = RX("^[^\\s@]+@[^)]+\\) by \\S+\\(jqueuemail\\) id [^\\s;]+"),
    re_any_bracket_ip = RX("\\[(" IP ")\\]"),
    re_ip = RX(IP),
    re_ip_private = RX(IP_PRIVATE),
    re_is_ip_private = RX(IP_PRIVATE "$"),
    re_is_ipv4 = RX("^\\b" V4 "\\b$"),
    re_mapped_v4 = RXI("^0*:0*:(?:0*:)*ffff:(\\d+\\.\\d+\\.\\d+\\.\\d+)$"),
    re_scope = RXI("%[A-Z0-9._~-]*$");

/* SpamAssassin's line clean-up: whitespace runs to one space, trimmed, trailing ";"s off.
 * One byte to spare: parse_line may insert a space (")by " to ") by "). */
static char *normalise(const char *value)
{
    char *out = xmalloc(strlen(value) + 2);
    size_t n = 0;
    bool space = false;
    for (const char *s = value; *s != '\0'; s++) {
        if (*s == ' ' || *s == '\t' || *s == '\n' || *s == '\r' || *s == '\f' || *s == '\v') {
            space = true;
            continue;
        }
        if (space && n > 0)
            out[n++] = ' ';
        space = false;
        out[n++] = *s;
    }
    out[n] = '\0';
    for (;;) {          /* 1 while s/\s?;$// */
        if (n > 0 && out[n - 1] == ';') {
            out[--n] = '\0';
            if (n > 0 && out[n - 1] == ' ')
                out[--n] = '\0';
        } else {
            break;
        }
    }
    return out;
}

/* s/[\s\000\#\[\]\(\)\<\>\|]/!/g */
static void strip_chars(char *s)
{
    for (; s != NULL && *s != '\0'; s++) {
        if (strchr(" \t\n\r\f\v#[]()<>|", *s) != NULL)
            *s = '!';
    }
}

static void clean_envfrom(char *s)
{
    size_t start = strspn(s, " \t\n\r\f\v");
    while (s[start] == '<')
        start++;
    memmove(s, s + start, strlen(s + start) + 1);
    size_t n = strlen(s);
    while (n > 0 && strchr(" \t\n\r\f\v", s[n - 1]) != NULL)
        n--;
    while (n > 0 && s[n - 1] == '>')
        n--;
    s[n] = '\0';
    strip_chars(s);
}

/* The "enough:" step: the fields cleaned as SpamAssassin cleans them. */
static void finish(struct parse *p, struct received_fields *f, bool looked_up_dns)
{
    size_t n = strlen(f->rdns);
    while (n > 0 && f->rdns[n - 1] == '.')
        f->rdns[--n] = '\0';
    if (strcasecmp(f->rdns, "unknown") == 0 || f->rdns[0] == '[')
        f->rdns[0] = '\0';
    if (strncasecmp(f->ip, "ipv6:", 5) == 0)
        memmove(f->ip, f->ip + 5, strlen(f->ip + 5) + 1);
    if (f->ip[0] == '[')
        memmove(f->ip, f->ip + 1, strlen(f->ip));
    n = strlen(f->ip);
    if (n > 0 && f->ip[n - 1] == ']')
        f->ip[n - 1] = '\0';
    if (rx_match_on(p, &re_scope, f->ip)) {
        PCRE2_SIZE *ov = pcre2_get_ovector_pointer(p->md);
        f->ip[ov[0]] = '\0';
    }
    if (rx_match_on(p, &re_mapped_v4, f->ip))
        set(&f->ip, group(p, 1));
    n = strlen(f->by);
    if (n > 0 && f->by[n - 1] == ';')
        f->by[n - 1] = '\0';
    strip_chars(f->ip);
    strip_chars(f->rdns);
    strip_chars(f->helo);
    strip_chars(f->by);
    strip_chars(f->ident);
    if (f->envfrom != NULL)
        clean_envfrom(f->envfrom);
    f->no_reverse_dns = f->rdns[0] == '\0' && looked_up_dns;
    f->ip_private = rx_match_on(p, &re_ip_private, f->ip);
}

/* Exim's "(helo=X ident=Y)" comment: takes helo and ident out of it. */
static void exim_sub(struct parse *p, struct received_fields *f, char *sub)
{
    if (sub == NULL)
        return;
    if (rx_match_on(p, &re_sub_helo, sub)) {
        set(&f->helo, group(p, 1));
    }
    if (rx_match_on(p, &re_sub_ident, sub))
        set(&f->ident, group(p, 1));
    free(sub);
}

/* Sets fields from groups: each argument a group number, 0 = leave the field alone. */
static void take(struct parse *p, struct received_fields *f, int helo, int rdns, int ip, int by)
{
    if (helo)
        set(&f->helo, group(p, helo));
    if (rdns)
        set(&f->rdns, group(p, rdns));
    if (ip)
        set(&f->ip, group(p, ip));
    if (by)
        set(&f->by, group(p, by));
}

enum outcome { GO_ON, ENOUGH, ENOUGH_DNS, IGNORE, FETCHER };

/* The "from ..." formats (after "from " was taken off), in SpamAssassin's order. */
static enum outcome parse_from(struct parse *p, struct received_fields *f)
{
    if (m(p, &re_envfrom))
        f->envfrom = group(p, 1);
    if (m(p, &re_squirrel) && m(p, &re_squirrel_ip)) {
        take(p, f, 0, 0, 1, 2);
        return ENOUGH;
    }
    if (m(p, &re_aol) && m(p, &re_aol_webmail) && m(p, &re_aol_fields)) {
        take(p, f, 0, 0, 1, 2);
        return ENOUGH;
    }
    if (m(p, &re_smtpsvc)) {
        if (m(p, &re_smtpsvc_fields)) {
            take(p, f, 1, 0, 2, 3);
            return ENOUGH;
        }
        if (m(p, &re_pickup))
            return IGNORE;
    } else if (m(p, &re_mssmtp)) {
        if (m(p, &re_mssmtp_fields)) {
            take(p, f, 1, 0, 2, 3);
            set(&f->id, NULL);
            return ENOUGH;
        }
    } else if (m(p, &re_xmail)) {
        if (m(p, &re_xmail_fields)) {
            take(p, f, 1, 0, 2, 3);
            if (m(p, &re_xmail_id))
                set(&f->id, group(p, 1));
            if (m(p, &re_xmail_from)) {
                free(f->envfrom);
                f->envfrom = group(p, 1);
            }
            return ENOUGH;
        }
    } else if (m(p, &re_ecelerity)) {
        if (m(p, &re_ecelerity_helo)) {
            take(p, f, 2, 0, 1, 3);
            return ENOUGH;
        }
        if (m(p, &re_ecelerity_plain)) {
            take(p, f, 0, 0, 1, 2);
            return ENOUGH;
        }
    } else if (m(p, &re_exim)) {
        if (m(p, &re_exim_local))
            return IGNORE;
        if (m(p, &re_exim_ip_sub)) {
            take(p, f, 0, 0, 1, 3);
            exim_sub(p, f, group(p, 2));
            return ENOUGH;
        }
        if (m(p, &re_exim_rdns_sub)) {
            take(p, f, 1, 1, 2, 4);
            exim_sub(p, f, group(p, 3));
            return ENOUGH;
        }
        if (m(p, &re_exim_bracket)) {
            take(p, f, 1, 1, 2, 4);
            return ENOUGH;
        }
        if (m(p, &re_exim_odd_rdns))
            set(&f->rdns, group(p, 1));
        if (m(p, &re_exim_odd_helo))
            set(&f->helo, group(p, 1));
        if (m(p, &re_exim_odd_ip))
            set(&f->ip, group(p, 1));
        if (m(p, &re_exim_odd_by)) {
            set(&f->by, group(p, 1));
            if (f->ip[0] != '\0')
                return ENOUGH;
        }
    } else if (m(p, &re_postfix)) {
        if (m(p, &re_postfix_fields) || m(p, &re_postfix_pobox)) {
            take(p, f, 1, 2, 3, 4);
            return ENOUGH_DNS;
        }
    } else if (m(p, &re_scalix)) {
        if (m(p, &re_scalix_fields)) {
            take(p, f, 1, 0, 2, 3);
            return ENOUGH;
        }
    } else if (m(p, &re_domino)) {
        if (m(p, &re_domino_fields)) {
            take(p, f, 1, 0, 2, 3);
            return ENOUGH;
        }
    }
    if (m(p, &re_with_http) && m(p, &re_http_numeric)) {
        take(p, f, 0, 0, 1, 2);
        return ENOUGH;
    }
    if (!m(p, &re_qmail_ldap) && m(p, &re_sendmail)) {
        take(p, f, 1, 2, 3, 4);
        if (rx_match_on(p, &re_ident_prefix, f->rdns)) {
            set(&f->ident, group(p, 1));
            cut_match_in(p, f->rdns);
        }
        if (rx_match_on(p, &re_user_prefix, f->rdns)) {
            set(&f->ident, group(p, 1));
            cut_match_in(p, f->rdns);
        }
        return ENOUGH_DNS;
    }
    return GO_ON;
}

/* The less standard "from ..." formats, after the common ones. */
static enum outcome parse_from_odd(struct parse *p, struct received_fields *f)
{
    if (m(p, &re_exchange55)) {
        take(p, f, 1, 2, 3, 4);
        return ENOUGH_DNS;
    }
    if (m(p, &re_gsi)) {
        take(p, f, 3, 1, 2, 4);
        return ENOUGH;
    }
    if (m(p, &re_attbi_unknown)) {
        take(p, f, 1, 0, 2, 3);
        return ENOUGH;
    }
    if (m(p, &re_attbi)) {
        take(p, f, 1, 2, 3, 4);
        return ENOUGH_DNS;
    }
    if (m(p, &re_ident_at)) {
        take(p, f, 1, 0, 3, 4);
        set(&f->ident, group(p, 2));
        return ENOUGH_DNS;
    }
    if (m(p, &re_hotmail_msn)) {
        set(&f->by, group(p, 1));
        if (m(p, &re_leading_ip))
            set(&f->ip, group(p, 1));
        return ENOUGH;
    }
    if (m(p, &re_qpsmtpd) || m(p, &re_lmtp) || m(p, &re_gmx_helo)) {
        take(p, f, 2, 1, 3, 4);
        return ENOUGH;
    }
    if (m(p, &re_smtpd_for)) {
        take(p, f, 1, 0, 2, 3);
        return ENOUGH;
    }
    if (m(p, &re_qmail)) {
        if (m(p, &re_qmail_helo_ident)) {
            take(p, f, 2, 1, 4, 6);
            set(&f->ident, group(p, 3));
        } else if (m(p, &re_qmail_helo)) {
            take(p, f, 2, 1, 3, 5);
        } else if (m(p, &re_qmail_ident)) {
            take(p, f, 1, 1, 3, 5);
            set(&f->ident, group(p, 2));
        } else if (m(p, &re_qmail_plain)) {
            take(p, f, 1, 1, 2, 4);
        }
        if (strcmp(f->rdns, "unknown") != 0)
            return ENOUGH_DNS;
        set(&f->rdns, NULL);
        return ENOUGH;
    }
    if (m(p, &re_via_http_end) && m(p, &re_yahoo_http)) {
        take(p, f, 0, 0, 1, 2);
        return ENOUGH;
    }
    if (m(p, &re_space_bracket)) {
        take(p, f, 0, 0, 2, 3);
        return ENOUGH;
    }
    if (m(p, &re_paren_rdns_ip)) {
        take(p, f, 1, 0, 2, 3);
        return ENOUGH;
    }
    if (m(p, &re_bracket_ip_by) || m(p, &re_paren_ip_by)) {
        take(p, f, 0, 0, 1, 2);
        return ENOUGH;
    }
    if (m(p, &re_mdaemon)) {
        take(p, f, 1, 0, 2, 3);
        return ENOUGH_DNS;
    }
    if (m(p, &re_mdaemon19)) {
        take(p, f, 1, 0, 2, 3);
        return ENOUGH;
    }
    if (m(p, &re_sendmail_norev)) {
        take(p, f, 1, 0, 2, 3);
        return ENOUGH_DNS;
    }
    if (m(p, &re_sendmail_lax)) {
        char *second = group(p, 2);
        bool softdnserr = second != NULL && strcmp(second, "softdnserr") == 0;
        free(second);
        take(p, f, 1, softdnserr ? 0 : 2, 3, 4);
        return softdnserr ? ENOUGH : ENOUGH_DNS;
    }
    if (m(p, &re_port_ip)) {
        take(p, f, 1, 0, 2, 3);
        return ENOUGH_DNS;
    }
    if (m(p, &re_sendmail_auth)) {
        take(p, f, 1, 2, 3, 4);
        return ENOUGH_DNS;
    }
    if (m(p, &re_fetcher))
        return FETCHER;
    if (m(p, &re_qmailish_helo)) {
        take(p, f, 2, 1, 4, 5);
        char *ident = group(p, 3);
        if (ident != NULL && ident[0] != '\0' && ident[strlen(ident) - 1] == '@')
            ident[strlen(ident) - 1] = '\0';
        set(&f->ident, ident);
        return ENOUGH_DNS;
    }
    if (m(p, &re_qmailish)) {
        take(p, f, 1, 1, 3, 4);
        char *ident = group(p, 2);
        if (ident != NULL && ident[0] != '\0' && ident[strlen(ident) - 1] == '@')
            ident[strlen(ident) - 1] = '\0';
        set(&f->ident, ident);
        return ENOUGH_DNS;
    }
    return GO_ON;
}

/* The rarest formats and the handovers SpamAssassin ignores. */
static enum outcome parse_from_rare(struct parse *p, struct received_fields *f)
{
    if (m(p, &re_with_http_for) && m(p, &re_outblaze)) {
        take(p, f, 0, 0, 1, 2);
        return ENOUGH;
    }
    if (m(p, &re_via_smap) && m(p, &re_smap)) {
        take(p, f, 0, 1, 2, 3);
        return ENOUGH_DNS;
    }
    if (m(p, &re_smap_helo)) {
        take(p, f, 3, 1, 2, 4);
        return ENOUGH_DNS;
    }
    if (m(p, &re_post) && m(p, &re_post_office)) {
        take(p, f, 0, 0, 1, 2);
        return ENOUGH;
    }
    if (m(p, &re_argosoft) && m(p, &re_argosoft_fields)) {
        take(p, f, 0, 0, 1, 2);
        return ENOUGH;
    }
    if (m(p, &re_interscan)) {
        take(p, f, 0, 0, 1, 2);
        return ENOUGH;
    }
    if (m(p, &re_bsmtp) && m(p, &re_bsmtp_fields))
        return IGNORE;
    if (m(p, &re_spike)) {
        take(p, f, 1, 2, 3, 4);
        return ENOUGH_DNS;
    }
    if (m(p, &re_yahoo_helo)) {
        take(p, f, 2, 1, 4, 5);
        char *ident = group(p, 3);
        if (ident != NULL)
            set(&f->ident, ident);
        return ENOUGH_DNS;
    }
    if (m(p, &re_communigate_acct)) {
        take(p, f, 2, 0, 1, 3);
        return ENOUGH;
    }
    if (m(p, &re_communigate_pro) && m(p, &re_communigate_verified)) {
        take(p, f, 1, 1, 2, 3);
        return ENOUGH_DNS;
    }
    if (m(p, &re_ciphertrust)) {
        take(p, f, 0, 0, 1, 2);
        return ENOUGH;
    }
    if (m(p, &re_ironport)) {
        take(p, f, 1, 0, 2, 3);
        return ENOUGH;
    }
    if (m(p, &re_content_tech))
        return IGNORE;
    if (m(p, &re_double_ip)) {
        take(p, f, 1, 0, 2, 4);
        return ENOUGH;
    }
    if (m(p, &re_ip_by_with)) {
        take(p, f, 0, 0, 1, 2);
        return ENOUGH;
    }
    if (m(p, &re_pobox)) {
        take(p, f, 1, 2, 3, 4);
        return ENOUGH_DNS;
    }
    if (m(p, &re_fsecure) || m(p, &re_altavista)) {
        take(p, f, 2, 0, 1, 3);
        return ENOUGH;
    }
    if (m(p, &re_smtpd32)) {
        take(p, f, 1, 0, 2, 3);
        return ENOUGH;
    }
    if (m(p, &re_csmap)) {
        take(p, f, 0, 1, 2, 3);
        return ENOUGH;
    }
    if (m(p, &re_mailgate)) {
        take(p, f, 0, 0, 1, 2);
        return ENOUGH;
    }
    if (m(p, &re_unverified)) {
        take(p, f, 1, 0, 2, 3);
        return ENOUGH;
    }
    if (m(p, &re_ip_comment)) {
        take(p, f, 0, 0, 1, 2);
        return ENOUGH;
    }
    if (m(p, &re_bracket_sub)) {
        take(p, f, 0, 0, 1, 3);
        exim_sub(p, f, group(p, 2));
        return ENOUGH;
    }
    if (m(p, &re_kde)) {
        take(p, f, 0, 1, 2, 3);
        return ENOUGH;
    }
    if (m(p, &re_obtuse)) {
        char *rdns = group(p, 1);
        bool unknown = rdns != NULL && strcmp(rdns, "UNKNOWN") == 0;
        free(rdns);
        take(p, f, 3, 1, 2, 4);
        return unknown ? ENOUGH : ENOUGH_DNS;
    }
    if (m(p, &re_yahoo_login)) {
        take(p, f, 1, 0, 3, 4);
        return ENOUGH;
    }
    if (m(p, &re_x_originating)) {
        take(p, f, 0, 0, 1, 0);
        set(&f->by, NULL);
        return ENOUGH;
    }
    return GO_ON;
}

static struct rx *const ignored_handovers[] = {
    &re_ign_local_user, &re_ign_local_esmtp, &re_ign_avg, &re_ign_qs_uid, &re_ign_addr_by,
    &re_ign_unknown_local, &re_ign_localhost, &re_ign_localhost_ip, &re_ign_user_localhost,
    &re_ign_auth, &re_ign_unix, &re_ign_amazon, &re_ign_groupwise, &re_ign_raptor, NULL,
};

static struct rx *const ignored_unusable[] = {
    &re_ign_with_local, &re_ign_cyrus, &re_ign_pmdf, &re_ign_sieved, &re_ign_sendgrid,
    &re_ign_opensmtpd, &re_ign_lsmtp, &re_ign_mailenable, &re_ign_facebook, &re_ign_gmailapi,
    &re_ign_id_only, &re_ign_jetsend, NULL,
};

static bool any_match(struct parse *p, struct rx *const *list)
{
    for (size_t i = 0; list[i] != NULL; i++) {
        if (m(p, list[i]))
            return true;
    }
    return false;
}

/* The qmail-scanner line: ignored, its envelope sender kept for the next relay. */
static enum outcome qmail_scanner(struct received_fields *f)
{
    if (f->envfrom != NULL)
        clean_envfrom(f->envfrom);
    f->qmail_scanner_envfrom = f->envfrom;
    f->envfrom = NULL;
    return IGNORE;
}

static enum outcome parse_from_all(struct parse *p, struct received_fields *f)
{
    enum outcome o = parse_from(p, f);
    if (o == GO_ON)
        o = parse_from_odd(p, f);
    if (o == GO_ON)
        o = parse_from_rare(p, f);
    if (o != GO_ON)
        return o;
    if (any_match(p, ignored_handovers))
        return IGNORE;
    if (m(p, &re_ign_qmail_scanner))
        return qmail_scanner(f);
    if (any_match(p, ignored_unusable))
        return IGNORE;
    if (f->helo[0] == '\0' && m(p, &re_guess_helo))
        set(&f->helo, group(p, 1));
    return GO_ON;
}

/* Authentication recorded by the receiving MTA, as SpamAssassin recognises it. */
static void find_auth(struct parse *p, struct received_fields *f)
{
    if (m(p, &re_space_by) && m(p, &re_auth_with)) {
        set(&f->auth, group(p, 1));
    } else if (m(p, &re_auth_gmail) && m(p, &re_auth_gmail_tls)) {
        char *version = group(p, 1), *cipher = group(p, 2);
        set(&f->auth, xasprintf("GMail - transport=%s cipher=%s", version, cipher));
        free(version);
        free(cipher);
    } else if (m(p, &re_auth_courier)) {
        set(&f->auth, group(p, 1));
    } else if (m(p, &re_authenticated) && m(p, &re_auth_sendmail)) {
        set(&f->auth, xstrdup("Sendmail"));
    } else if (m(p, &re_auth_gmx)) {
        char *proto = group(p, 4), *host = group(p, 3);
        set(&f->auth, xasprintf("GMX (%s / %s)", proto, host));
        free(proto);
        free(host);
    } else if (m(p, &re_authenticated_as) && m(p, &re_auth_criticalpath)) {
        set(&f->auth, xstrdup("CriticalPath"));
    } else if (m(p, &re_auth_postfix)) {
        char *name = group(p, 1);
        set(&f->auth, strcmp(name, "Postfix") == 0 ? xstrdup(name)
            : xasprintf("Postfix (%s)", name));
        free(name);
    } else if (m(p, &re_communigate) && m(p, &re_account)) {
        set(&f->auth, xstrdup("Communigate"));
    } else if (m(p, &re_http_dav)) {
        set(&f->auth, xstrdup("HTTP-DAV"));
    } else if (m(p, &re_space_by) && m(p, &re_via_http)) {
        set(&f->auth, group(p, 1));
    }
}

/* What every line gives before its format is known: id, helo, by, auth. */
static void common_fields(struct parse *p, struct received_fields *f)
{
    if (m(p, &re_id))
        set(&f->id, group(p, 1));
    if (m(p, &re_helo_eq) || m(p, &re_helo_word))
        set(&f->helo, group(p, 1));
    if (m(p, &re_by))
        set(&f->by, group(p, 1));
    find_auth(p, f);
}

static enum outcome parse_line(struct parse *p, struct received_fields *f)
{
    if (!m(p, &re_from_start) || m(p, &re_with_local_for))
        return IGNORE;
    if (m(p, &re_from_by_only)) {
        char *host = group(p, 1);
        bool bracketed = rx_match_on(p, &re_bracket_v4, host);
        free(host);
        if (!bracketed)
            return IGNORE;
    }
    if (m(p, &re_date))
        cut_match_in(p, p->text);
    char *by_glued = strstr(p->text, ")by ");
    if (by_glued != NULL) {
        memmove(by_glued + 2, by_glued + 1, strlen(by_glued + 1) + 1);
        by_glued[1] = ' ';
    }
    common_fields(p, f);
    enum outcome o = GO_ON;
    if (m(p, &re_strip_from)) {
        cut_match_in(p, p->text);
        o = parse_from_all(p, f);
    } else if (m(p, &re_strip_FROM)) {
        cut_match_in(p, p->text);
        if (m(p, &re_simta)) {
            take(p, f, 1, 2, 3, 4);
            set(&f->id, group(p, 5));
            if (strcmp(f->rdns, "unverified") == 0)
                set(&f->rdns, NULL);
            o = ENOUGH_DNS;
        }
    } else if (m(p, &re_strip_paren_from)) {
        cut_match_in(p, p->text);
        if (m(p, &re_navgw)) {
            take(p, f, 1, 0, 2, 3);
            o = ENOUGH;
        } else if (m(p, &re_ign_sendmail_t) || m(p, &re_ign_jqueuemail)) {
            o = IGNORE;
        }
    }
    if (o != GO_ON)
        return o;
    if (f->ip[0] == '\0' && m(p, &re_any_bracket_ip))
        set(&f->ip, group(p, 1));
    return f->ip[0] != '\0' && f->by[0] != '\0' ? ENOUGH : GO_ON;
}

enum received_kind received_parse(const char *value, struct received_fields *out)
{
    *out = (struct received_fields){ .ip = xstrdup(""), .rdns = xstrdup(""),
        .helo = xstrdup(""), .by = xstrdup(""), .ident = xstrdup(""), .id = xstrdup(""),
        .auth = xstrdup("") };
    struct parse p = { .text = normalise(value) };
    p.md = pcre2_match_data_create(MAX_GROUPS, NULL);
    p.mctx = pcre2_match_context_create(NULL);
    pcre2_set_match_limit(p.mctx, MATCH_LIMIT);
    enum outcome o = parse_line(&p, out);
    enum received_kind kind;
    switch (o) {
    case ENOUGH:
    case ENOUGH_DNS:
        finish(&p, out, o == ENOUGH_DNS);
        kind = RECEIVED_RELAY;
        break;
    case IGNORE:
        kind = RECEIVED_IGNORED;
        break;
    case FETCHER:
        kind = RECEIVED_FETCHER;
        break;
    default:
        kind = RECEIVED_UNPARSEABLE;
        break;
    }
    pcre2_match_context_free(p.mctx);
    pcre2_match_data_free(p.md);
    free(p.text);
    return kind;
}

void received_fields_free(struct received_fields *f)
{
    free(f->ip);
    free(f->rdns);
    free(f->helo);
    free(f->by);
    free(f->ident);
    free(f->envfrom);
    free(f->id);
    free(f->auth);
    free(f->qmail_scanner_envfrom);
    memset(f, 0, sizeof *f);
}

static bool match_whole(struct rx *r, const char *text)
{
    pcre2_match_data *md = pcre2_match_data_create(1, NULL);
    int rc = run_match(rx_code(r), text, md, NULL);
    pcre2_match_data_free(md);
    return rc > 0;
}

/* Expands "@IP@" to the IP pattern. */
static char *expand_ip(const char *source)
{
    struct textbuf out;
    textbuf_init(&out);
    for (const char *s = source; *s != '\0';) {
        if (strncmp(s, "@IP@", 4) == 0) {
            textbuf_puts(&out, IP);
            s += 4;
        } else {
            textbuf_append(&out, s, 1);
            s++;
        }
    }
    return out.data;
}

static pcre2_code *pattern_code(struct received_pattern *p)
{
    pcre2_code *code = __atomic_load_n((pcre2_code **)&p->code, __ATOMIC_ACQUIRE);
    if (code != NULL)
        return code;
    pthread_mutex_lock(&rx_lock);
    if (p->code == NULL) {
        char *source = expand_ip(p->source);
        int err;
        PCRE2_SIZE off;
        code = pcre2_compile((PCRE2_SPTR)source, PCRE2_ZERO_TERMINATED,
            p->caseless ? PCRE2_CASELESS : 0, &err, &off, NULL);
        free(source);
        if (code == NULL)
            abort();          /* a pattern of ours that does not compile: a bug */
        __atomic_store_n((pcre2_code **)&p->code, code, __ATOMIC_RELEASE);
    }
    pthread_mutex_unlock(&rx_lock);
    return p->code;
}

bool received_pattern_groups(struct received_pattern *p, const char *text, char **groups,
    int count, size_t *start, size_t *end)
{
    pcre2_code *code = pattern_code(p);
    pcre2_match_data *md = pcre2_match_data_create((uint32_t)count + 1, NULL);
    pcre2_match_context *mctx = pcre2_match_context_create(NULL);
    pcre2_set_match_limit(mctx, MATCH_LIMIT);
    int rc = run_match(code, text, md, mctx);
    bool hit = rc > 0;
    PCRE2_SIZE *ov = pcre2_get_ovector_pointer(md);
    for (int i = 0; i < count; i++) {
        int g = i + 1;
        groups[i] = NULL;
        if (hit && g < rc && ov[2 * g] != PCRE2_UNSET)
            groups[i] = xstrndup(text + ov[2 * g], ov[2 * g + 1] - ov[2 * g]);
    }
    if (start != NULL)
        *start = hit ? ov[0] : 0;
    if (end != NULL)
        *end = hit ? ov[1] : 0;
    pcre2_match_context_free(mctx);
    pcre2_match_data_free(md);
    return hit;
}

bool received_pattern_match(struct received_pattern *p, const char *text, char **group1)
{
    char *group = NULL;
    bool hit = received_pattern_groups(p, text, &group, 1, NULL, NULL);
    if (group1 != NULL)
        *group1 = group;
    else
        free(group);
    return hit;
}

void received_pattern_free(struct received_pattern *p)
{
    pcre2_code_free(p->code);
    p->code = NULL;
}

char *received_first_ip(const char *text)
{
    pcre2_match_data *md = pcre2_match_data_create(2, NULL);
    char *ip = NULL;
    if (run_match(rx_code(&re_ip), text, md, NULL) > 0) {
        PCRE2_SIZE *ov = pcre2_get_ovector_pointer(md);
        ip = xstrndup(text + ov[0], ov[1] - ov[0]);
    }
    pcre2_match_data_free(md);
    return ip;
}

bool received_ip_private(const char *ip)
{
    return ip != NULL && match_whole(&re_ip_private, ip);
}

bool received_is_ip_private(const char *ip)
{
    return ip != NULL && match_whole(&re_is_ip_private, ip);
}

bool received_is_ipv4(const char *text)
{
    return text != NULL && match_whole(&re_is_ipv4, text);
}

char *received_relay_string(const char *ip, const char *rdns, const char *helo, const char *by,
    const char *ident, const char *envfrom, bool internal, const char *id, const char *auth,
    bool msa)
{
    return xasprintf("[ ip=%s rdns=%s helo=%s by=%s ident=%s envfrom=%s intl=%d id=%s auth=%s "
        "msa=%d ]", ip, rdns, helo, by, ident, envfrom != NULL ? envfrom : "", internal ? 1 : 0,
        id, auth, msa ? 1 : 0);
}
