/* store_limits.h - sizes pam_pat.so accepts in patd's answers. */
#ifndef PAM_PAT_STORE_LIMITS_H
#define PAM_PAT_STORE_LIMITS_H

#define PP_ROLE_MAX	64
#define PP_USER_MAX	64
#define PP_RHOST_MAX	128
#define PP_SERVICE_MAX	64

#endif
