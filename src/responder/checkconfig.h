/* SPDX-License-Identifier: ISC */
/* checkconfig.h: idwise-fcgi --check-config: what the configuration will do, and whether it can. */
#ifndef IDW_CHECKCONFIG_H
#define IDW_CHECKCONFIG_H

#include <stdio.h>

struct config;

/*
 * With the config loaded (secrets included), check that the running user can write the
 * log's directory (and the reject log's), then print a one-screen summary with secrets
 * masked. Warns (stderr, "warning: ...", exit status unchanged) when others or a group may
 * write the config file, the log's directory or the reject log's. Returns 0, or -1 after
 * one line on stderr saying what is wrong.
 */
int	check_config(const struct config *, FILE *out);

#endif
