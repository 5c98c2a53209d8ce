/* dkim_policy.h - the typed `dkim` section of the policy: the key table, the signing table,
 * who may be signed for what, and the verifier's limits; the keys are parsed once per policy
 * load by finish(). A loaded dkim_policy is immutable; every thread may read it. */
#ifndef MW_DKIM_POLICY_H
#define MW_DKIM_POLICY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cidr.h"
#include "config.h"
#include "dkim_keys.h"
#include "pattern.h"


/* One key-table entry: name -> d=, s=, the private key (its algorithm read from the key). */
struct dkim_key_entry {
    char *name;
    char *domain;
    char *selector;
    char *file;
    char *decl_file;           /* where the entry was written, for errors */
    int decl_line;
    struct dkim_key *key;      /* loaded by finish(); NULL before */
};

enum dkim_match_on {
    DKIM_MATCH_FROM,           /* the From: header's domain (address patterns: its address) */
    DKIM_MATCH_SENDER,         /* the envelope sender */
};

/* One signing-table entry: address patterns (pattern.h: "user@example.com", "example.com",
 * ".example.com" or "*.example.com", "*", ...) and the keys it signs with, in order. */
struct dkim_sign_rule {
    enum dkim_match_on on;
    struct pattern_list match;
    char **key_names;
    size_t key_count;
    size_t *keys;              /* indexes into keys[], resolved by finish() */
    char *decl_file;
    int decl_line;
};

/* An authenticated user and the domains they may be signed for (domain patterns, pattern.h).
 * A user not listed may be signed only for the domain of their login name when it has one
 * ("alice@example.com" -> example.com). */
struct dkim_user_rule {
    char *user;                /* as written, lower case */
    struct pattern_list who;   /* user as a SASL-user pattern: "alice" also means alice@realm */
    struct pattern_list domains;
};

struct dkim_policy {

    struct {
        bool enabled;
        bool authenticated;     /* sign for SASL-authenticated clients */
        bool internal;          /* sign for networks.internal */
        struct cidr_list networks;  /* and for these clients too */
        char *canonicalization; /* "relaxed/relaxed" */
        int header_canon;       /* enum arc_canon_kind (arc_canon.h) */
        int body_canon;
        char *headers;          /* colon-separated list of header fields to sign */
        char *oversign;         /* colon-separated list of fields to oversign */
        int expire_s;           /* x= = t= + this; 0 = no x= */
        char *default_key;      /* key name for mail no rule matches; NULL = do not sign */
        enum action on_error;   /* tempfail or accept when mail that must be signed cannot be */
    } sign;

    struct {
        bool enabled;
        unsigned max_signatures;
        unsigned min_key_bits;
        bool report_none;       /* Authentication-Results dkim=none for unsigned mail */
        bool accept_rsa_sha1;   /* RFC 6376 behaviour; RFC 8301 (default false) says policy */
        int clock_drift_s;
        uint64_t budget_ms;     /* every key lookup of one message together */
        bool shadow;            /* mode "shadow" (engine.c) */
    } verify;

    struct dkim_key_entry *keys;
    size_t key_count;
    struct dkim_sign_rule *rules;
    size_t rule_count;
    struct dkim_user_rule *users;
    size_t user_count;
    size_t default_key;         /* index when sign.default_key is set */
};

extern const struct config_module dkim_config_module;

#endif
