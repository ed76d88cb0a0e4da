/**
 * @file model.c  The store's model objects, their JSON pieces and the
 * wildcard matcher (see store.h).
 *
 * Kept apart from the SQL (store.c) because provisioning builds and
 * checks the same objects without a database.
 *
 * Trigger points are kept in one JSON column rather than in SPT rows: an
 * iFC is always read and written whole (TS 29.228 B.2.2 gives it no
 * identity of its own below the iFC), the JSON is the provisioning
 * format, and both SQL dialects store it as TEXT.
 */
#include <errno.h>
#include <jansson.h>
#include <regex.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "store/store.h"

static void strv_destructor(struct store_strv *sv)
{
	size_t i;

	for (i = 0; i < sv->n; i++)
		mem_deref(sv->v[i]);
	sv->v = mem_deref(sv->v);
	sv->n = 0;
}


void store_strv_reset(struct store_strv *sv)
{
	if (sv)
		strv_destructor(sv);
}


int store_strv_add(struct store_strv *sv, const char *s)
{
	char **v;
	char *d;

	d = mem_strdup(s, strlen(s));
	if (!d)
		return ENOMEM;
	v = sv->v ? mem_realloc(sv->v, (sv->n + 1) * sizeof(*v))
		  : mem_zalloc(sizeof(*v), NULL);
	if (!v) {
		mem_deref(d);
		return ENOMEM;
	}
	v[sv->n++] = d;
	sv->v = v;
	return 0;
}


int store_strset(char **dst, const char *s)
{
	char *d = NULL;

	if (s) {
		d = mem_strdup(s, strlen(s));
		if (!d)
			return ENOMEM;
	}
	mem_deref(*dst);
	*dst = d;
	return 0;
}


static void sub_destructor(void *arg)
{
	struct store_subscription *s = arg;

	mem_deref(s->name);
	mem_deref(s->scscf_preferred);
	mem_deref(s->ccf_primary);
	mem_deref(s->ccf_secondary);
	mem_deref(s->ecf_primary);
	mem_deref(s->ecf_secondary);
	mem_deref(s->scscf_assigned);
}


struct store_subscription *store_subscription_alloc(void)
{
	return mem_zalloc(sizeof(struct store_subscription), sub_destructor);
}


static void impi_destructor(void *arg)
{
	struct store_impi *i = arg;
	size_t n;

	mem_deref(i->subscription);
	mem_deref(i->identity);
	for (n = 0; n < STORE_REALM_MAX; n++) /* also past a lowered ha1_n */
		mem_deref(i->ha1[n].realm);
	mem_deref(i->line_id);
	strv_destructor(&i->impu);
	/* secrets do not outlive the object */
	memset(i->k, 0, sizeof(i->k));
	memset(i->opc, 0, sizeof(i->opc));
}


struct store_impi *store_impi_alloc(void)
{
	return mem_zalloc(sizeof(struct store_impi), impi_destructor);
}


static void impu_destructor(void *arg)
{
	struct store_impu *u = arg;

	mem_deref(u->subscription);
	mem_deref(u->identity);
	mem_deref(u->display_name);
	mem_deref(u->alias_group);
	mem_deref(u->service_profile);
	strv_destructor(&u->impi);
}


struct store_impu *store_impu_alloc(void)
{
	struct store_impu *u;

	u = mem_zalloc(sizeof(*u), impu_destructor);
	if (u)
		u->can_register = true;
	return u;
}


static void tp_destructor(void *arg)
{
	struct cx_trigger_point *tp = arg;
	size_t i;

	for (i = 0; i < tp->spt_n; i++) {
		mem_deref(tp->spt[i].a);
		mem_deref(tp->spt[i].b);
	}
	mem_deref(tp->spt);
}


struct cx_trigger_point *store_tp_alloc(bool cnf)
{
	struct cx_trigger_point *tp;

	tp = mem_zalloc(sizeof(*tp), tp_destructor);
	if (tp)
		tp->cnf = cnf;
	return tp;
}


static void ifc_destructor(void *arg)
{
	struct store_ifc *f = arg;

	mem_deref(f->name);
	mem_deref(f->ifc.as_uri);
	mem_deref(f->ifc.service_info);
	mem_deref(f->ifc.tp);
}


struct store_ifc *store_ifc_alloc(void)
{
	struct store_ifc *f;

	f = mem_zalloc(sizeof(*f), ifc_destructor);
	if (f)
		f->ifc.ppi = CX_PPI_NONE;
	return f;
}


struct cx_spt *store_ifc_spt_add(struct store_ifc *ifc, bool cnf,
				 enum cx_spt_kind kind, int group)
{
	struct cx_trigger_point *tp;
	struct cx_spt *v;

	if (!ifc->ifc.tp) {
		ifc->ifc.tp = store_tp_alloc(cnf);
		if (!ifc->ifc.tp)
			return NULL;
	}
	tp = ifc->ifc.tp;
	v = tp->spt ? mem_realloc(tp->spt, (tp->spt_n + 1) * sizeof(*v))
		    : mem_zalloc(sizeof(*v), NULL);
	if (!v)
		return NULL;
	tp->spt = v;
	v = &tp->spt[tp->spt_n++];
	memset(v, 0, sizeof(*v));
	v->kind = kind;
	v->group = group;
	return v;
}


static void sp_destructor(void *arg)
{
	struct store_sp *sp = arg;

	mem_deref(sp->name);
	strv_destructor(&sp->ifc);
}


struct store_sp *store_sp_alloc(void)
{
	struct store_sp *sp;

	sp = mem_zalloc(sizeof(*sp), sp_destructor);
	if (sp)
		sp->media_profile = -1;
	return sp;
}


static void set_destructor(void *arg)
{
	struct store_ifc_set *s = arg;

	mem_deref(s->name);
	strv_destructor(&s->ifc);
}


struct store_ifc_set *store_ifc_set_alloc(void)
{
	return mem_zalloc(sizeof(struct store_ifc_set), set_destructor);
}


/* ---- authentication scheme names ---- */

/* The first name is the one written back; the Cx names of TS 29.229
 * 6.3.8 are accepted too. */
static const struct {
	unsigned bit;
	const char *names[3];
} auth_names[] = {
	{ STORE_AUTH_DIGEST_MD5, { "digest-md5", "SIP Digest", "md5" } },
	{ STORE_AUTH_DIGEST_SHA256,
	  { "digest-sha256", "SIP Digest SHA-256", "sha-256" } },
	{ STORE_AUTH_AKAV1_MD5, { "aka-v1-md5", "Digest-AKAv1-MD5", "akav1" } },
	{ STORE_AUTH_AKAV2_MD5, { "aka-v2-md5", "Digest-AKAv2-MD5", "akav2" } },
};


const char *store_auth_name(unsigned bit)
{
	size_t i;

	for (i = 0; i < sizeof(auth_names) / sizeof(auth_names[0]); i++)
		if (auth_names[i].bit == bit)
			return auth_names[i].names[0];
	return NULL;
}


unsigned store_auth_from_name(const char *name)
{
	size_t i, j;

	for (i = 0; i < sizeof(auth_names) / sizeof(auth_names[0]); i++)
		for (j = 0; j < 3; j++)
			if (!strcasecmp(name, auth_names[i].names[j]))
				return auth_names[i].bit;
	return 0;
}


/* ---- trigger points as JSON ---- */

static const char *const sc_names[] = {
	"originating",
	"terminating_registered",
	"terminating_unregistered",
	"originating_unregistered",
	"originating_cdiv",
};

static const char *const regtype_names[] = { "initial", "re", "de" };

static json_t *spt_encode(const struct cx_spt *s)
{
	json_t *o, *a;
	size_t i;
	int r = 0;

	o = json_object();
	if (!o)
		return NULL;
	r |= json_object_set_new(o, "group", json_integer(s->group));
	if (s->negated)
		r |= json_object_set_new(o, "negated", json_true());
	switch (s->kind) {
	case CX_SPT_REQUEST_URI:
		r |= json_object_set_new(o, "request_uri",
					 json_string(s->a ? s->a : ""));
		break;
	case CX_SPT_METHOD:
		r |= json_object_set_new(o, "method",
					 json_string(s->a ? s->a : ""));
		if (!s->reg_type)
			break;
		a = json_array();
		for (i = 0; a && i < 3; i++)
			if (s->reg_type & (1u << i))
				r |= json_array_append_new(
					a, json_string(regtype_names[i]));
		r |= json_object_set_new(o, "reg_type", a);
		break;
	case CX_SPT_SIP_HEADER:
		r |= json_object_set_new(o, "header",
					 json_string(s->a ? s->a : ""));
		if (s->b)
			r |= json_object_set_new(o, "content",
						 json_string(s->b));
		break;
	case CX_SPT_SESSION_CASE:
		if ((unsigned)s->session_case >= 5) {
			r = -1;
			break;
		}
		r |= json_object_set_new(
			o, "session_case",
			json_string(sc_names[s->session_case]));
		break;
	case CX_SPT_SESSION_DESCRIPTION:
		r |= json_object_set_new(o, "sdp_line",
					 json_string(s->a ? s->a : ""));
		if (s->b)
			r |= json_object_set_new(o, "content",
						 json_string(s->b));
		break;
	default:
		r = -1;
	}
	if (r) {
		json_decref(o);
		return NULL;
	}
	return o;
}


/**
 * The JSON form of a trigger point.
 *
 * @param tp     the trigger point, or NULL (no TriggerPoint: "null")
 * @param jsonp  a mem string on success
 * @return 0, ENOMEM, or EINVAL for a value out of range
 */
int store_tp_encode(const struct cx_trigger_point *tp, char **jsonp)
{
	json_t *o = NULL, *a;
	char *s = NULL;
	size_t i;
	int err = 0;

	if (!tp) {
		*jsonp = mem_strdup("null", 4);
		return *jsonp ? 0 : ENOMEM;
	}
	o = json_object();
	a = json_array();
	if (!o || !a || json_object_set_new(o, "cnf", json_boolean(tp->cnf)) ||
	    json_object_set(o, "spt", a)) {
		err = ENOMEM;
		goto out;
	}
	for (i = 0; i < tp->spt_n; i++) {
		json_t *e = spt_encode(&tp->spt[i]);
		if (!e || json_array_append_new(a, e)) {
			err = EINVAL;
			goto out;
		}
	}
	s = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER);
	if (!s) {
		err = ENOMEM;
		goto out;
	}
	*jsonp = mem_strdup(s, strlen(s));
	if (!*jsonp)
		err = ENOMEM;
out:
	free(s);
	json_decref(a);
	json_decref(o);
	return err;
}


static int kind_of(json_t *o, enum cx_spt_kind *kind, const char **key)
{
	static const struct {
		const char *key;
		enum cx_spt_kind kind;
	} k[] = {
		{ "request_uri", CX_SPT_REQUEST_URI },
		{ "method", CX_SPT_METHOD },
		{ "header", CX_SPT_SIP_HEADER },
		{ "session_case", CX_SPT_SESSION_CASE },
		{ "sdp_line", CX_SPT_SESSION_DESCRIPTION },
	};
	size_t i, n = 0;

	for (i = 0; i < sizeof(k) / sizeof(k[0]); i++) {
		if (json_object_get(o, k[i].key)) {
			*kind = k[i].kind;
			*key = k[i].key;
			n++;
		}
	}
	return n == 1 ? 0 : EINVAL;
}


static int spt_decode(struct cx_spt *s, json_t *o, size_t idx, char *err,
		      size_t errsz)
{
	json_t *v, *g = json_object_get(o, "group");
	json_t *neg = json_object_get(o, "negated");
	json_t *content = json_object_get(o, "content");
	const char *key;
	size_t i;

	if (!json_is_object(o) || kind_of(o, &s->kind, &key)) {
		(void)snprintf(err, errsz,
			       "trigger point SPT %zu must be an object with "
			       "exactly one of request_uri, method, header, "
			       "session_case or sdp_line",
			       idx + 1);
		return EINVAL;
	}
	if (g && (!json_is_integer(g) || json_integer_value(g) < 0 ||
		  json_integer_value(g) > 1000000)) {
		(void)snprintf(err, errsz,
			       "trigger point SPT %zu: group must be a "
			       "non-negative integer",
			       idx + 1);
		return EINVAL;
	}
	s->group = g ? (int)json_integer_value(g) : 0;
	if (neg && !json_is_boolean(neg)) {
		(void)snprintf(err, errsz,
			       "trigger point SPT %zu: negated must be true "
			       "or false",
			       idx + 1);
		return EINVAL;
	}
	s->negated = neg && json_is_true(neg);
	v = json_object_get(o, key);
	if (!json_is_string(v) || !json_string_length(v)) {
		(void)snprintf(err, errsz,
			       "trigger point SPT %zu: %s must be a non-empty "
			       "string",
			       idx + 1, key);
		return EINVAL;
	}
	if (s->kind == CX_SPT_SESSION_CASE) {
		for (i = 0; i < 5; i++)
			if (!strcmp(json_string_value(v), sc_names[i]))
				break;
		if (i == 5) {
			(void)snprintf(err, errsz,
				       "trigger point SPT %zu: session_case "
				       "'%s' is not one of originating, "
				       "terminating_registered, "
				       "terminating_unregistered, "
				       "originating_unregistered, "
				       "originating_cdiv",
				       idx + 1, json_string_value(v));
			return EINVAL;
		}
		s->session_case = (enum cx_session_case)i;
	} else {
		s->a = mem_strdup(json_string_value(v), json_string_length(v));
		if (!s->a)
			return ENOMEM;
	}
	if (content && (s->kind == CX_SPT_SIP_HEADER ||
			s->kind == CX_SPT_SESSION_DESCRIPTION)) {
		if (!json_is_string(content)) {
			(void)snprintf(err, errsz,
				       "trigger point SPT %zu: content must "
				       "be a string (a regular expression)",
				       idx + 1);
			return EINVAL;
		}
		s->b = mem_strdup(json_string_value(content),
				  json_string_length(content));
		if (!s->b)
			return ENOMEM;
	}
	v = json_object_get(o, "reg_type");
	if (v && s->kind == CX_SPT_METHOD) {
		json_t *e;
		size_t k;
		if (!json_is_array(v))
			goto badreg;
		json_array_foreach(v, k, e)
		{
			for (i = 0; i < 3; i++)
				if (json_is_string(e) &&
				    !strcmp(json_string_value(e),
					    regtype_names[i]))
					break;
			if (i == 3)
				goto badreg;
			s->reg_type |= 1u << i;
		}
	}
	return 0;
badreg:
	(void)snprintf(err, errsz,
		       "trigger point SPT %zu: reg_type must be a list of "
		       "initial, re, de",
		       idx + 1);
	return EINVAL;
}


/**
 * A trigger point from its JSON form.
 *
 * @param tpp    NULL for "null", else a new trigger point
 * @param json   the text
 * @param err    a sentence on EINVAL
 * @return 0, EINVAL, ENOMEM
 */
int store_tp_decode(struct cx_trigger_point **tpp, const char *json, char *err,
		    size_t errsz)
{
	struct cx_trigger_point *tp = NULL;
	json_error_t je;
	json_t *o, *a, *cnf, *e;
	size_t i;
	int ret = 0;

	o = json_loads(json, JSON_DECODE_ANY, &je);
	if (!o) {
		(void)snprintf(err, errsz, "trigger point is not JSON: %s",
			       je.text);
		return EINVAL;
	}
	if (json_is_null(o)) {
		*tpp = NULL;
		goto out;
	}
	cnf = json_object_get(o, "cnf");
	a = json_object_get(o, "spt");
	if (!json_is_object(o) || !json_is_boolean(cnf) || !json_is_array(a)) {
		(void)snprintf(err, errsz,
			       "trigger point must be {\"cnf\": true|false, "
			       "\"spt\": [...]}");
		ret = EINVAL;
		goto out;
	}
	tp = store_tp_alloc(json_is_true(cnf));
	if (!tp || (json_array_size(a) &&
		    !(tp->spt = mem_zalloc(
			      json_array_size(a) * sizeof(*tp->spt), NULL)))) {
		ret = ENOMEM;
		goto out;
	}
	json_array_foreach(a, i, e)
	{
		tp->spt_n = i + 1; /* the destructor frees what is set */
		ret = spt_decode(&tp->spt[i], e, i, err, errsz);
		if (ret)
			goto out;
	}
	*tpp = tp;
	tp = NULL;
out:
	mem_deref(tp);
	json_decref(o);
	return ret;
}


/* ---- wildcarded identities ---- */

/* TS 23.003 13.5: in a wildcarded PSI (and, the same way, a wildcarded
 * IMPU, TS 29.228 B.2.1) the text between a pair of '!' is a regular
 * expression and the rest is literal.
 * Turned into one anchored POSIX extended expression. */
static int wildcard_regex(const char *pat, char *re, size_t size)
{
	size_t o = 0;
	bool in = false;
	const char *p;

	if (size < 3)
		return ENOSPC;
	re[o++] = '^';
	for (p = pat; *p; p++) {
		if (*p == '!') {
			if (in && p[-1] == '!')
				return EINVAL; /* "!!": an empty expression */
			in = !in;
			continue;
		}
		if (o + 4 >= size)
			return ENOSPC;
		if (!in && strchr("\\^$.|?*+()[]{}", *p))
			re[o++] = '\\';
		re[o++] = *p;
	}
	if (in)
		return EINVAL;
	re[o++] = '$';
	re[o] = '\0';
	return 0;
}


/**
 * Whether an identity is covered by a wildcarded identity.
 *
 * @param pattern   "sip:ivr-!.*!@acme.example"
 * @param identity  "sip:ivr-42@acme.example"
 * @param match     the answer
 * @return 0, or EINVAL for a malformed pattern
 */
int store_wildcard_match(const char *pattern, const char *identity, bool *match)
{
	char re[1024];
	regex_t rx;
	int err;

	err = wildcard_regex(pattern, re, sizeof(re));
	if (err)
		return EINVAL;
	if (!strchr(pattern, '!'))
		return EINVAL; /* nothing wildcarded */
	if (regcomp(&rx, re, REG_EXTENDED | REG_NOSUB))
		return EINVAL;
	*match = regexec(&rx, identity, 0, NULL, 0) == 0;
	regfree(&rx);
	return 0;
}
