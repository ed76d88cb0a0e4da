/**
 * @file prov.h  Provisioning of the HSS: subscriptions with their
 * private and public identities, iFCs, service profiles and shared iFC
 * sets, in and out as JSON (docs/internals/provisioning.md).
 *
 * The CLI (src/cmd/prov_cli.c) and, later, the REST API are thin shells
 * over these functions: every input is a JSON value, every refusal comes
 * back as an errno and one sentence in msg that says what is wrong and
 * how to fix it, fit to show to the operator as it is.
 *
 * Changes an S-CSCF must hear about (a served user's profile, barring,
 * identities, charging; a served user deleted or deregistered) leave an
 * event in the store's outbox (store/events.h) for the HSS process,
 * which sends the PPR or RTR (docs/internals/provisioning.md).
 *
 * Errors: EINVAL invalid input, EEXIST an identity or name already in
 * use, ENOENT an unknown subscription/identity/iFC/profile, EBUSY still
 * in use, others from the store (EIO ...).
 */
#ifndef IMS_HSS_PROV_H
#define IMS_HSS_PROV_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "core/mem.h"

struct store;

#define PROV_MSG_MAX 512

/* One subscription document, or an array of them; each subscription is
 * written whole or not at all.  *countp: how many were imported (those
 * before a failing one stay). */
int prov_import(struct store *st, const json_t *doc, size_t *countp, char *msg,
		size_t msgsz) IMS_MUST_CHECK;
int prov_sub_add(struct store *st, const json_t *sub, char *msg,
		 size_t msgsz) IMS_MUST_CHECK;
/* key: a subscription name, an IMPI or an IMPU.  *docp: the document
 * prov_sub_add() takes back (HA1 and OPc instead of password and OP). */
int prov_sub_export(struct store *st, const char *key, json_t **docp, char *msg,
		    size_t msgsz) IMS_MUST_CHECK;
/* Every subscription, as an array. */
int prov_export_all(struct store *st, json_t **docp, char *msg,
		    size_t msgsz) IMS_MUST_CHECK;
/* [{"name", "impi": [...], "impu": [...]}] */
int prov_sub_list(struct store *st, json_t **docp, char *msg,
		  size_t msgsz) IMS_MUST_CHECK;
/* Change a subscription: the members given in changes replace the
 * stored ones; entries of "impi"/"impu" update the identity of that
 * name (only the members given) or add it when new. */
int prov_sub_set(struct store *st, const char *key, const json_t *changes,
		 char *msg, size_t msgsz) IMS_MUST_CHECK;
/* A subscription with a registered user queues its deregistration
 * (STORE_EV_DEREG, PERMANENT_TERMINATION, per IMPI that registered a
 * served set) before it goes, each event a snapshot of its RTR, so the
 * HSS sends it after the rows are deleted.  On 0, msg says which RTRs
 * were queued ("" when none). */
int prov_sub_delete(struct store *st, const char *key, char *msg,
		    size_t msgsz) IMS_MUST_CHECK;
/* prov_sub_export() plus "registration": {"scscf", "scscf_host",
 * "impu": {URI: "registered" | "unregistered" | "not_registered"}}. */
int prov_sub_show(struct store *st, const char *key, json_t **docp, char *msg,
		  size_t msgsz) IMS_MUST_CHECK;

/* Administrative deregistration (TS 29.228 6.1.3): queue the RTR the HSS
 * process sends, as a snapshot taken now.  identity: an IMPI (the sets
 * it registered) or an IMPU (its implicit set); reason: the Reason-Code
 * (TS 29.229 6.3.17, 0..3); info: the Reason-Info (one line, at most
 * STORE_REASON_INFO_MAX characters) or NULL.  0: queued, msg says to
 * which S-CSCF and with which User-Name; ENOENT unknown identity;
 * EALREADY not registered, msg says nothing will be sent. */
int prov_deregister(struct store *st, const char *identity, uint32_t reason,
		    const char *info, char *msg, size_t msgsz) IMS_MUST_CHECK;
/* "permanent", "new-server", "server-change", "remove-scscf" (or the Cx
 * names) -> Reason-Code; EINVAL with the sentence. */
int prov_reason_parse(const char *name, uint32_t *reasonp, char *msg,
		      size_t msgsz) IMS_MUST_CHECK;

/* iFCs: {"name", "priority", "as_uri", "default_handling",
 * "service_info", "include_register_request",
 * "include_register_response", "profile_part", "trigger"}; an array of
 * them is taken too. */
int prov_ifc_add(struct store *st, const json_t *doc, char *msg,
		 size_t msgsz) IMS_MUST_CHECK;
/* name NULL: all, as an array */
int prov_ifc_export(struct store *st, const char *name, json_t **docp,
		    char *msg, size_t msgsz) IMS_MUST_CHECK;
int prov_ifc_delete(struct store *st, const char *name, char *msg,
		    size_t msgsz) IMS_MUST_CHECK;

/* Service profiles: {"name", "ifc": [names], "shared_ifc_sets": [ids],
 * "media_profile"}; add replaces when replace is set. */
int prov_sp_add(struct store *st, const json_t *doc, int replace, char *msg,
		size_t msgsz) IMS_MUST_CHECK;
int prov_sp_export(struct store *st, const char *name, json_t **docp, char *msg,
		   size_t msgsz) IMS_MUST_CHECK;
int prov_sp_delete(struct store *st, const char *name, char *msg,
		   size_t msgsz) IMS_MUST_CHECK;

/* Shared iFC sets: {"id", "name", "ifc": [names]} */
int prov_ifc_set_add(struct store *st, const json_t *doc, char *msg,
		     size_t msgsz) IMS_MUST_CHECK;

/* The SLF table (Dx, TS 29.228 6.6): which HSS holds an identity (a
 * public or private one).  hss_name is that HSS's Diameter identity,
 * hss_realm its realm (NULL or "": the realm is the name minus its first
 * label).  Export: [{"identity", "hss", "realm"}], sorted by identity;
 * one entry when identity is not NULL. */
int prov_slf_set(struct store *st, const char *identity, const char *hss_name,
		 const char *hss_realm, char *msg, size_t msgsz) IMS_MUST_CHECK;
int prov_slf_export(struct store *st, const char *identity, json_t **docp,
		    char *msg, size_t msgsz) IMS_MUST_CHECK;
int prov_slf_delete(struct store *st, const char *identity, char *msg,
		    size_t msgsz) IMS_MUST_CHECK;

/* Checks shared with the CLI: a public identity of a type ("sip:..."),
 * a private identity (NAI). */
int prov_check_impu(const char *identity, const char *type, char *msg,
		    size_t msgsz) IMS_MUST_CHECK;
int prov_check_impi(const char *identity, char *msg,
		    size_t msgsz) IMS_MUST_CHECK;

#endif
