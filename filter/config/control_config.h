/* control_config.h - the policy section `control`: where the control socket of mailwarden-ctl(8)
 * lives, its mode and its group (control_config.c; used by ctl_server.c). */
#ifndef MW_CTL_CONFIG_H
#define MW_CTL_CONFIG_H

#include <stdbool.h>

#define CONTROL_DEFAULT_SOCKET "/run/mailwarden/control.sock"

struct control_policy {
    char *socket;              /* an absolute path; "" = no control socket */
    bool socket_is_default;    /* not written in the policy: a failure to create it only warns */
    unsigned mode;             /* 0660 */
    char *group;               /* who may connect besides root; NULL = milter.group, else the
                                  primary group of milter.user, else the daemon's group */
};

#endif
