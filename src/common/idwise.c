/* SPDX-License-Identifier: ISC */
/* idwise.c: IDWise's event names and decisions as tables, and classification. */
#include "autoconf.h"

#include <stdio.h>
#include <string.h>

#include "canon.h"
#include "idwise.h"
#include "util.h"

struct name_map {
	const char	*from;
	const char	*to;
};

static const struct name_map event_types[] = {
	{ "Finished Step",			"finished_step" },
	{ "Finished User Steps",		"finished_user_steps" },
	{ "Finished Journey",			"finished_journey" },
	{ "Manually Reviewed",			"manually_reviewed" },
	{ "Updated Journey",			"updated_journey" },
	{ "AML Monitor Update",			"aml_monitor_update" },
	{ "Finished Spot Check",		"finished_spot_check" },
	{ "Verification Update Required",	"verification_update_required" },
	{ "KYC Renewal Deadline Exceeded",	"kyc_renewal_deadline_exceeded" },
	{ "Finished Ongoing Check",		"finished_spot_check" },
	{ "Step Submitted",			"step_submitted" },
};

static const struct name_map decision_outcomes[] = {
	{ "Complete",			"approved" },
	{ "Approved",			"approved" },
	{ "Passed",			"approved" },
	{ "Rejected",			"rejected" },
	{ "Refer",			"review" },
	{ "Incomplete",			"pending" },
	{ "Resubmission Requested",	"resubmission" },
};

/* Every type and outcome a record can have, in a fixed order (metrics count by it). */
static const char *const type_names[IDWISE_TYPES] = {
	"finished_step", "finished_user_steps", "finished_journey", "manually_reviewed",
	"updated_journey", "aml_monitor_update", "finished_spot_check",
	"verification_update_required", "kyc_renewal_deadline_exceeded", "step_submitted",
	"unknown",
};

static const char *const outcome_names[IDWISE_OUTCOMES] = {
	"approved", "rejected", "review", "pending", "resubmission", "none", "unknown",
};

/* The decision members, strongest first. */
static const char *const decision_members[] = {
	"finalDecision", "manualDecision", "systemDecision"
};


static const char *
map_lookup(const struct name_map *map, size_t n, const char *s, size_t len)
{
	size_t	 i;

	for (i = 0; i < n; i++)
		if (strlen(map[i].from) == len && memcmp(map[i].from, s, len) == 0)
			return map[i].to;
	return NULL;
}

static int
name_lookup(const char *const *names, int n, const char *name)
{
	int	 i;

	for (i = 0; i < n; i++)
		if (strcmp(names[i], name) == 0)
			return i;
	return -1;
}

int
idwise_type_lookup(const char *type)
{
	return name_lookup(type_names, IDWISE_TYPES, type);
}

int
idwise_outcome_lookup(const char *outcome)
{
	return name_lookup(outcome_names, IDWISE_OUTCOMES, outcome);
}

/* "unknown" is last in both lists. */
int
idwise_type_index(const char *type)
{
	int	 i = idwise_type_lookup(type);

	return i != -1 ? i : IDWISE_TYPES - 1;
}

int
idwise_outcome_index(const char *outcome)
{
	int	 i = idwise_outcome_lookup(outcome);

	return i != -1 ? i : IDWISE_OUTCOMES - 1;
}

const char *
idwise_type_name(int i)
{
	return i >= 0 && i < IDWISE_TYPES ? type_names[i] : "unknown";
}

const char *
idwise_outcome_name(int i)
{
	return i >= 0 && i < IDWISE_OUTCOMES ? outcome_names[i] : "unknown";
}

const char *
idwise_type(const char *name, size_t len)
{
	return map_lookup(event_types, nitems(event_types), name, len);
}

const char *
idwise_outcome(const char *decision, size_t len)
{
	const char	*outcome;

	outcome = map_lookup(decision_outcomes, nitems(decision_outcomes), decision, len);
	return outcome != NULL ? outcome : "unknown";
}

/* body[name] if it is a string, else NULL (absent, null, or another type). */
static json_object *
string_member(json_object *body, const char *name)
{
	json_object	*value;

	if (!json_object_object_get_ex(body, name, &value) ||
	    !json_object_is_type(value, json_type_string))
		return NULL;
	return value;
}

static const char *
classify_outcome(json_object *body)
{
	json_object	*value;
	size_t		 i;

	for (i = 0; i < nitems(decision_members); i++) {
		if (!json_object_object_get_ex(body, decision_members[i], &value) ||
		    value == NULL)
			continue;
		if (!json_object_is_type(value, json_type_string))
			return "unknown";
		return idwise_outcome(json_object_get_string(value),
		    (size_t)json_object_get_string_len(value));
	}
	return "none";
}

static json_object *
classify_journey(json_object *body, const char *type)
{
	json_object	*journey;

	journey = string_member(body, "journeyId");
	if (journey == NULL && strcmp(type, "finished_spot_check") == 0)
		journey = string_member(body, "spotCheckJourneyId");
	return journey;
}

/* eventId when it is a non-empty string, else "sha256:" + the raw body's digest. */
static json_object *
classify_id(json_object *body, const char *body_sha256)
{
	json_object	*id;
	char		 fallback[sizeof("sha256:") + SHA256_HEX_LEN];

	id = string_member(body, "eventId");
	if (id != NULL && json_object_get_string_len(id) > 0)
		return json_object_get(id);
	snprintf(fallback, sizeof(fallback), "sha256:%s", body_sha256);
	return json_object_new_string(fallback);
}

int
event_classify(struct event *ev, json_object *root, const unsigned char *raw, size_t rawlen,
    const char *env, const char *remote_addr)
{
	unsigned char	 digest[SHA256_LEN];
	const char	*name;
	size_t		 len;

	memset(ev, 0, sizeof(*ev));
	ev->root = json_object_get(root);
	json_object_object_get_ex(root, "body", &ev->body);
	json_object_object_get_ex(root, "event", &ev->event_name);
	name = json_object_get_string(ev->event_name);
	len = (size_t)json_object_get_string_len(ev->event_name);
	ev->type = idwise_type(name, len);
	if (ev->type == NULL)
		ev->type = "unknown";
	ev->outcome = classify_outcome(ev->body);
	ev->journey_id = classify_journey(ev->body, ev->type);
	ev->reference_no = string_member(ev->body, "referenceNo");
	ev->env = env;
	ev->remote_addr = remote_addr;
	sha256(raw, rawlen, digest);
	hex_encode(digest, SHA256_LEN, ev->body_sha256);
	ev->id = classify_id(ev->body, ev->body_sha256);
	if (ev->id == NULL || canon_digest(ev->body, ev->body_digest) == -1) {
		event_free(ev);
		return -1;
	}
	return 0;
}

void
event_free(struct event *ev)
{
	json_object_put(ev->id);
	json_object_put(ev->root);
	memset(ev, 0, sizeof(*ev));
}
