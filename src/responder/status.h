/* SPDX-License-Identifier: ISC */
/*
 * status.h: the status page at the configured status_path: health as JSON
 * (?format=json; 503 when the log cannot be written) and the deployment's metrics in
 * Prometheus text format. Only GET and HEAD, only from status_allow_from (loopback by
 * default); restrict it at the web server too.
 */
#ifndef IDW_STATUS_H
#define IDW_STATUS_H

#include <stdbool.h>

struct config;
struct exchange;
struct service;

/* Is this request (its REQUEST_URI) for the status page? */
bool	status_wanted(const struct config *, const char *request_uri);
void	status_serve(struct service *, const struct config *, const struct exchange *);

#endif
