/* policy_file.h - the one way to open a file that a policy names (policy files, rule files and
 * their includes, access-list files, DKIM keys, the DNSSEC trust anchor). */
#ifndef MW_POLICY_FILE_H
#define MW_POLICY_FILE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

/* Opens PATH for reading without ever blocking in open() (a FIFO or a device cannot hang us)
 * and refuses anything but a regular file once symbolic links are resolved. Returns a blocking
 * descriptor (close-on-exec), or -1 with the reason in WHY. WHY never holds PATH (the caller
 * decides whether the value is safe to show) and names the user when permissions refuse it. */
int policy_file_open(const char *path, char *why, size_t why_size);
/* The same as a stdio stream ("r"); NULL with the reason in WHY. */
FILE *policy_file_fopen(const char *path, char *why, size_t why_size);
/* Whether PATH can be opened as above; the file is closed again. */
bool policy_file_check(const char *path, char *why, size_t why_size);

/* Whether a value given where a path is expected may be shown in an error: never when it could
 * be key text (PEM armour, white space or control characters, nothing but base64 characters
 * while naming no file). A key pasted into `file =` is never echoed. */
bool policy_path_showable(const char *value);

#endif
