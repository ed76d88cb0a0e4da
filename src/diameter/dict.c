/**
 * @file dict.c  The Diameter dictionary, validation and the printer.
 *
 * Sources: RFC 6733 4.5 (base AVPs), 5.3/5.4/5.5 (CER, DPR, DWR), 7.2 (the
 * error answer); RFC 4740 9.5 (Digest AVPs); RFC 7683 and 7944 and 8583
 * (overload, DRMP, load: carried by Cx and Sh since Rel-12); TS 29.229 6.1
 * (Cx/Dx commands), 6.3 (AVPs), 6.2 (result codes); TS 29.329 6.1, 6.3,
 * 6.2 (Sh).  The Dx interface (I-CSCF/S-CSCF to SLF) uses the Cx commands
 * and application id unchanged (TS 29.228 6.6, TS 29.229 6), so it needs
 * no table of its own.
 *
 * M bit rules: "must" where the spec table says M must be set, "may"
 * otherwise.  TS 29.229 7.1.1 says AVPs added after Rel-5 are sent with M
 * clear; we send them so but accept either, as deployed HSSs and CSCFs
 * differ there and refusing them buys nothing.
 *
 * Tables are sorted by (vendor, code) and searched by bisection;
 * dia_dict_check() verifies that and that every grammar names a known AVP.
 */
#include "diameter/dict.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "core/buf.h"
#include "diameter/msg.h"

#define V3 DIA_VENDOR_3GPP
#define N  DIA_UNBOUNDED

/* grammar entries: base (vendor 0) and 3GPP */
#define B(c, mn, mx)                   \
	{                              \
		DIA_AVP_##c, 0, mn, mx \
	}
#define G(c, mn, mx)                    \
	{                               \
		DIA_AVP_##c, V3, mn, mx \
	}
#define GRAMMAR(name, any)                                            \
	static const struct dia_grammar name = {                      \
		name##_v, sizeof(name##_v) / sizeof(name##_v[0]), any \
	}

/* ---- Grouped AVP grammars ---- */

/* RFC 6733 6.11 */
static const struct dia_rule g_vsai_v[] = {
	B(VENDOR_ID, 1, 1),
	B(AUTH_APPLICATION_ID, 0, 1),
	B(ACCT_APPLICATION_ID, 0, 1),
};
GRAMMAR(g_vsai, false);

/* RFC 6733 6.7.2 */
static const struct dia_rule g_proxy_info_v[] = {
	B(PROXY_HOST, 1, 1),
	B(PROXY_STATE, 1, 1),
};
GRAMMAR(g_proxy_info, true);

/* RFC 6733 7.6 */
static const struct dia_rule g_exp_result_v[] = {
	B(VENDOR_ID, 1, 1),
	B(EXPERIMENTAL_RESULT_CODE, 1, 1),
};
GRAMMAR(g_exp_result, false);

/* RFC 6733 7.5: 1* {AVP}, any AVP */
static const struct dia_grammar g_failed = { NULL, 0, true };

/* RFC 7683 7.1, 7.3 */
static const struct dia_rule g_oc_sf_v[] = {
	B(OC_FEATURE_VECTOR, 0, 1),
};
GRAMMAR(g_oc_sf, true);

static const struct dia_rule g_oc_olr_v[] = {
	B(OC_SEQUENCE_NUMBER, 1, 1),
	B(OC_REPORT_TYPE, 1, 1),
	B(OC_REDUCTION_PERCENTAGE, 0, 1),
	B(OC_VALIDITY_DURATION, 0, 1),
};
GRAMMAR(g_oc_olr, true);

/* RFC 8583 7.1 */
static const struct dia_rule g_load_v[] = {
	B(LOAD_TYPE, 0, 1),
	B(LOAD_VALUE, 0, 1),
	B(SOURCEID, 0, 1),
};
GRAMMAR(g_load, true);

/* TS 29.229 6.3.4 */
static const struct dia_rule g_server_caps_v[] = {
	G(MANDATORY_CAPABILITY, 0, N),
	G(OPTIONAL_CAPABILITY, 0, N),
	G(SERVER_NAME, 0, N),
};
GRAMMAR(g_server_caps, true);

/* TS 29.229 6.3.13 (Framed-IP-Address, Line-Identifier, ... come as AVP) */
static const struct dia_rule g_sadi_v[] = {
	G(SIP_ITEM_NUMBER, 0, 1),
	G(SIP_AUTHENTICATION_SCHEME, 0, 1),
	G(SIP_AUTHENTICATE, 0, 1),
	G(SIP_AUTHORIZATION, 0, 1),
	G(SIP_AUTHENTICATION_CONTEXT, 0, 1),
	G(CONFIDENTIALITY_KEY, 0, 1),
	G(INTEGRITY_KEY, 0, 1),
	G(SIP_DIGEST_AUTHENTICATE, 0, 1),
};
GRAMMAR(g_sadi, true);

/* TS 29.229 6.3.16 */
static const struct dia_rule g_dereg_v[] = {
	G(REASON_CODE, 1, 1),
	G(REASON_INFO, 0, 1),
};
GRAMMAR(g_dereg, true);

/* TS 29.229 6.3.19 */
static const struct dia_rule g_charging_v[] = {
	G(PRIMARY_EVENT_CHARGING_FUNCTION_NAME, 0, 1),
	G(SECONDARY_EVENT_CHARGING_FUNCTION_NAME, 0, 1),
	G(PRIMARY_CHARGING_COLLECTION_FUNCTION_NAME, 0, 1),
	G(SECONDARY_CHARGING_COLLECTION_FUNCTION_NAME, 0, 1),
};
GRAMMAR(g_charging, true);

/* TS 29.229 6.3.29 */
static const struct dia_rule g_sf_v[] = {
	B(VENDOR_ID, 1, 1),
	G(FEATURE_LIST_ID, 1, 1),
	G(FEATURE_LIST, 1, 1),
};
GRAMMAR(g_sf, true);

/* TS 29.229 6.3.32 */
static const struct dia_rule g_sapps_v[] = {
	B(AUTH_APPLICATION_ID, 0, N),
	B(ACCT_APPLICATION_ID, 0, N),
	B(VENDOR_SPECIFIC_APPLICATION_ID, 0, N),
};
GRAMMAR(g_sapps, true);

/* TS 29.229 6.3.33, 6.3.50 */
static const struct dia_rule g_assoc_v[] = {
	B(USER_NAME, 0, N),
};
GRAMMAR(g_assoc, true);

/* TS 29.229 6.3.36 */
static const struct dia_rule g_digest_v[] = {
	B(DIGEST_REALM, 1, 1),
	B(DIGEST_ALGORITHM, 0, 1),
	B(DIGEST_QOP, 1, 1),
	B(DIGEST_HA1, 1, 1),
};
GRAMMAR(g_digest, true);

/* TS 29.229 6.3.46 */
static const struct dia_rule g_scscf_rest_v[] = {
	B(USER_NAME, 1, 1),
	G(RESTORATION_INFO, 1, N),
	G(SIP_AUTHENTICATION_SCHEME, 0, 1),
};
GRAMMAR(g_scscf_rest, true);

/* TS 29.229 6.3.52 */
static const struct dia_rule g_rest_info_v[] = {
	G(PATH, 1, 1),
	G(CONTACT, 1, 1),
	G(INITIAL_CSEQ_SEQUENCE_NUMBER, 0, 1),
	G(CALL_ID_SIP_HEADER, 0, 1),
	G(SUBSCRIPTION_INFO, 0, 1),
	G(P_CSCF_SUBSCRIPTION_INFO, 0, 1),
};
GRAMMAR(g_rest_info, true);

/* TS 29.229 6.3.49 */
static const struct dia_rule g_sub_info_v[] = {
	G(CALL_ID_SIP_HEADER, 1, 1),
	G(FROM_SIP_HEADER, 1, 1),
	G(TO_SIP_HEADER, 1, 1),
	G(RECORD_ROUTE, 1, 1),
	G(CONTACT, 1, 1),
};
GRAMMAR(g_sub_info, true);

/* TS 29.229 6.3.57 */
static const struct dia_rule g_iwer_v[] = {
	B(USER_NAME, 1, 1),
	G(PUBLIC_IDENTITY, 1, 1),
};
GRAMMAR(g_iwer, true);

/* TS 29.229 6.3.63 */
static const struct dia_rule g_waf_v[] = {
	G(WEBRTC_AUTHENTICATION_FUNCTION_NAME, 0, N),
	G(WEBRTC_WEB_SERVER_FUNCTION_NAME, 0, N),
};
GRAMMAR(g_waf, true);

/* TS 29.329 6.3.1 */
static const struct dia_rule g_user_identity_v[] = {
	G(PUBLIC_IDENTITY, 0, 1),
	G(MSISDN, 0, 1),
};
GRAMMAR(g_user_identity, true);

/* TS 29.329 6.3.24 */
static const struct dia_rule g_repo_v[] = {
	G(SERVICE_INDICATION, 1, 1),
	G(SEQUENCE_NUMBER, 1, 1),
};
GRAMMAR(g_repo, true);

/* TS 29.329 6.3.28 */
static const struct dia_rule g_cri_v[] = {
	G(CALL_REFERENCE_NUMBER, 1, 1),
	G(AS_NUMBER, 1, 1),
};
GRAMMAR(g_cri, true);

/* ---- AVPs, sorted by (vendor, code) ---- */

#define A(c, v, n, t, m)                                         \
	{                                                        \
		DIA_AVP_##c, v, n, DIA_TYPE_##t, DIA_M_##m, NULL \
	}
#define AG(c, v, n, m, g)                                         \
	{                                                         \
		DIA_AVP_##c, v, n, DIA_TYPE_GROUPED, DIA_M_##m, g \
	}

static const struct dia_avp_def avps[] = {
	A(USER_NAME, 0, "User-Name", UTF8, MUST),
	A(CLASS, 0, "Class", OCTETS, MUST),
	A(SESSION_TIMEOUT, 0, "Session-Timeout", U32, MUST),
	A(PROXY_STATE, 0, "Proxy-State", OCTETS, MUST),
	A(ACCT_SESSION_ID, 0, "Acct-Session-Id", OCTETS, MUST),
	A(ACCT_MULTI_SESSION_ID, 0, "Acct-Multi-Session-Id", UTF8, MUST),
	A(EVENT_TIMESTAMP, 0, "Event-Timestamp", TIME, MUST),
	A(ACCT_INTERIM_INTERVAL, 0, "Acct-Interim-Interval", U32, MUST),
	A(DIGEST_REALM, 0, "Digest-Realm", UTF8, MUST),
	A(DIGEST_QOP, 0, "Digest-QoP", UTF8, MUST),
	A(DIGEST_ALGORITHM, 0, "Digest-Algorithm", UTF8, MUST),
	A(DIGEST_HA1, 0, "Digest-HA1", UTF8, MUST),
	A(HOST_IP_ADDRESS, 0, "Host-IP-Address", ADDRESS, MUST),
	A(AUTH_APPLICATION_ID, 0, "Auth-Application-Id", U32, MUST),
	A(ACCT_APPLICATION_ID, 0, "Acct-Application-Id", U32, MUST),
	AG(VENDOR_SPECIFIC_APPLICATION_ID, 0, "Vendor-Specific-Application-Id",
	   MUST, &g_vsai),
	A(REDIRECT_HOST_USAGE, 0, "Redirect-Host-Usage", ENUM, MUST),
	A(REDIRECT_MAX_CACHE_TIME, 0, "Redirect-Max-Cache-Time", U32, MUST),
	A(SESSION_ID, 0, "Session-Id", UTF8, MUST),
	A(ORIGIN_HOST, 0, "Origin-Host", IDENTITY, MUST),
	A(SUPPORTED_VENDOR_ID, 0, "Supported-Vendor-Id", U32, MUST),
	A(VENDOR_ID, 0, "Vendor-Id", U32, MUST),
	A(FIRMWARE_REVISION, 0, "Firmware-Revision", U32, MAY),
	A(RESULT_CODE, 0, "Result-Code", U32, MUST),
	A(PRODUCT_NAME, 0, "Product-Name", UTF8, MAY),
	A(SESSION_BINDING, 0, "Session-Binding", U32, MUST),
	A(SESSION_SERVER_FAILOVER, 0, "Session-Server-Failover", ENUM, MUST),
	A(MULTI_ROUND_TIME_OUT, 0, "Multi-Round-Time-Out", U32, MUST),
	A(DISCONNECT_CAUSE, 0, "Disconnect-Cause", ENUM, MUST),
	A(AUTH_REQUEST_TYPE, 0, "Auth-Request-Type", ENUM, MUST),
	A(AUTH_GRACE_PERIOD, 0, "Auth-Grace-Period", U32, MUST),
	A(AUTH_SESSION_STATE, 0, "Auth-Session-State", ENUM, MUST),
	A(ORIGIN_STATE_ID, 0, "Origin-State-Id", U32, MUST),
	AG(FAILED_AVP, 0, "Failed-AVP", MUST, &g_failed),
	A(PROXY_HOST, 0, "Proxy-Host", IDENTITY, MUST),
	A(ERROR_MESSAGE, 0, "Error-Message", UTF8, MAY),
	A(ROUTE_RECORD, 0, "Route-Record", IDENTITY, MUST),
	A(DESTINATION_REALM, 0, "Destination-Realm", IDENTITY, MUST),
	AG(PROXY_INFO, 0, "Proxy-Info", MUST, &g_proxy_info),
	A(RE_AUTH_REQUEST_TYPE, 0, "Re-Auth-Request-Type", ENUM, MUST),
	A(ACCOUNTING_SUB_SESSION_ID, 0, "Accounting-Sub-Session-Id", U64, MUST),
	A(AUTHORIZATION_LIFETIME, 0, "Authorization-Lifetime", U32, MUST),
	A(REDIRECT_HOST, 0, "Redirect-Host", URI, MUST),
	A(DESTINATION_HOST, 0, "Destination-Host", IDENTITY, MUST),
	A(ERROR_REPORTING_HOST, 0, "Error-Reporting-Host", IDENTITY, MAY),
	A(TERMINATION_CAUSE, 0, "Termination-Cause", ENUM, MUST),
	A(ORIGIN_REALM, 0, "Origin-Realm", IDENTITY, MUST),
	AG(EXPERIMENTAL_RESULT, 0, "Experimental-Result", MUST, &g_exp_result),
	A(EXPERIMENTAL_RESULT_CODE, 0, "Experimental-Result-Code", U32, MUST),
	A(INBAND_SECURITY_ID, 0, "Inband-Security-Id", U32, MUST),
	A(DRMP, 0, "DRMP", ENUM, MAY),
	A(ACCOUNTING_RECORD_TYPE, 0, "Accounting-Record-Type", ENUM, MUST),
	A(ACCOUNTING_REALTIME_REQUIRED, 0, "Accounting-Realtime-Required", ENUM,
	  MUST),
	A(ACCOUNTING_RECORD_NUMBER, 0, "Accounting-Record-Number", U32, MUST),
	AG(OC_SUPPORTED_FEATURES, 0, "OC-Supported-Features", MAY, &g_oc_sf),
	A(OC_FEATURE_VECTOR, 0, "OC-Feature-Vector", U64, MAY),
	AG(OC_OLR, 0, "OC-OLR", MAY, &g_oc_olr),
	A(OC_SEQUENCE_NUMBER, 0, "OC-Sequence-Number", U64, MAY),
	A(OC_VALIDITY_DURATION, 0, "OC-Validity-Duration", U32, MAY),
	A(OC_REPORT_TYPE, 0, "OC-Report-Type", ENUM, MAY),
	A(OC_REDUCTION_PERCENTAGE, 0, "OC-Reduction-Percentage", U32, MAY),
	A(SOURCEID, 0, "SourceID", IDENTITY, MAY),
	AG(LOAD, 0, "Load", MAY, &g_load),
	A(LOAD_TYPE, 0, "Load-Type", ENUM, MAY),
	A(LOAD_VALUE, 0, "Load-Value", U64, MAY),

	/* TS 29.229 6.3 */
	A(VISITED_NETWORK_IDENTIFIER, V3, "Visited-Network-Identifier", OCTETS,
	  MUST),
	A(PUBLIC_IDENTITY, V3, "Public-Identity", UTF8, MUST),
	A(SERVER_NAME, V3, "Server-Name", UTF8, MUST),
	AG(SERVER_CAPABILITIES, V3, "Server-Capabilities", MUST,
	   &g_server_caps),
	A(MANDATORY_CAPABILITY, V3, "Mandatory-Capability", U32, MUST),
	A(OPTIONAL_CAPABILITY, V3, "Optional-Capability", U32, MUST),
	A(USER_DATA, V3, "User-Data", OCTETS, MUST),
	A(SIP_NUMBER_AUTH_ITEMS, V3, "SIP-Number-Auth-Items", U32, MUST),
	A(SIP_AUTHENTICATION_SCHEME, V3, "SIP-Authentication-Scheme", UTF8,
	  MUST),
	A(SIP_AUTHENTICATE, V3, "SIP-Authenticate", OCTETS, MUST),
	A(SIP_AUTHORIZATION, V3, "SIP-Authorization", OCTETS, MUST),
	A(SIP_AUTHENTICATION_CONTEXT, V3, "SIP-Authentication-Context", OCTETS,
	  MUST),
	AG(SIP_AUTH_DATA_ITEM, V3, "SIP-Auth-Data-Item", MUST, &g_sadi),
	A(SIP_ITEM_NUMBER, V3, "SIP-Item-Number", U32, MUST),
	A(SERVER_ASSIGNMENT_TYPE, V3, "Server-Assignment-Type", ENUM, MUST),
	AG(DEREGISTRATION_REASON, V3, "Deregistration-Reason", MUST, &g_dereg),
	A(REASON_CODE, V3, "Reason-Code", ENUM, MUST),
	A(REASON_INFO, V3, "Reason-Info", UTF8, MUST),
	AG(CHARGING_INFORMATION, V3, "Charging-Information", MUST, &g_charging),
	A(PRIMARY_EVENT_CHARGING_FUNCTION_NAME, V3,
	  "Primary-Event-Charging-Function-Name", URI, MUST),
	A(SECONDARY_EVENT_CHARGING_FUNCTION_NAME, V3,
	  "Secondary-Event-Charging-Function-Name", URI, MUST),
	A(PRIMARY_CHARGING_COLLECTION_FUNCTION_NAME, V3,
	  "Primary-Charging-Collection-Function-Name", URI, MUST),
	A(SECONDARY_CHARGING_COLLECTION_FUNCTION_NAME, V3,
	  "Secondary-Charging-Collection-Function-Name", URI, MUST),
	A(USER_AUTHORIZATION_TYPE, V3, "User-Authorization-Type", ENUM, MUST),
	A(USER_DATA_ALREADY_AVAILABLE, V3, "User-Data-Already-Available", ENUM,
	  MUST),
	A(CONFIDENTIALITY_KEY, V3, "Confidentiality-Key", OCTETS, MUST),
	A(INTEGRITY_KEY, V3, "Integrity-Key", OCTETS, MUST),
	AG(SUPPORTED_FEATURES, V3, "Supported-Features", MAY, &g_sf),
	A(FEATURE_LIST_ID, V3, "Feature-List-ID", U32, MAY),
	A(FEATURE_LIST, V3, "Feature-List", U32, MAY),
	AG(SUPPORTED_APPLICATIONS, V3, "Supported-Applications", MAY, &g_sapps),
	AG(ASSOCIATED_IDENTITIES, V3, "Associated-Identities", MAY, &g_assoc),
	A(ORIGINATING_REQUEST, V3, "Originating-Request", ENUM, MUST),
	A(WILDCARDED_PUBLIC_IDENTITY, V3, "Wildcarded-Public-Identity", UTF8,
	  MAY),
	AG(SIP_DIGEST_AUTHENTICATE, V3, "SIP-Digest-Authenticate", MAY,
	   &g_digest),
	A(WILDCARDED_IMPU, V3, "Wildcarded-IMPU", UTF8, MAY),
	A(UAR_FLAGS, V3, "UAR-Flags", U32, MAY),
	A(LOOSE_ROUTE_INDICATION, V3, "Loose-Route-Indication", ENUM, MAY),
	AG(SCSCF_RESTORATION_INFO, V3, "SCSCF-Restoration-Info", MAY,
	   &g_scscf_rest),
	A(PATH, V3, "Path", OCTETS, MAY),
	A(CONTACT, V3, "Contact", OCTETS, MAY),
	AG(SUBSCRIPTION_INFO, V3, "Subscription-Info", MAY, &g_sub_info),
	A(CALL_ID_SIP_HEADER, V3, "Call-ID-SIP-Header", OCTETS, MAY),
	A(FROM_SIP_HEADER, V3, "From-SIP-Header", OCTETS, MAY),
	A(TO_SIP_HEADER, V3, "To-SIP-Header", OCTETS, MAY),
	A(RECORD_ROUTE, V3, "Record-Route", OCTETS, MAY),
	AG(ASSOCIATED_REGISTERED_IDENTITIES, V3,
	   "Associated-Registered-Identities", MAY, &g_assoc),
	A(MULTIPLE_REGISTRATION_INDICATION, V3,
	  "Multiple-Registration-Indication", ENUM, MAY),
	AG(RESTORATION_INFO, V3, "Restoration-Info", MAY, &g_rest_info),
	A(SESSION_PRIORITY, V3, "Session-Priority", ENUM, MAY),
	AG(IDENTITY_WITH_EMERGENCY_REGISTRATION, V3,
	   "Identity-with-Emergency-Registration", MAY, &g_iwer),
	A(PRIVILEDGED_SENDER_INDICATION, V3, "Priviledged-Sender-Indication",
	  ENUM, MAY),
	A(LIA_FLAGS, V3, "LIA-Flags", U32, MAY),
	A(INITIAL_CSEQ_SEQUENCE_NUMBER, V3, "Initial-CSeq-Sequence-Number", U32,
	  MAY),
	A(SAR_FLAGS, V3, "SAR-Flags", U32, MAY),
	AG(ALLOWED_WAF_WWSF_IDENTITIES, V3, "Allowed-WAF-WWSF-Identities", MAY,
	   &g_waf),
	A(WEBRTC_AUTHENTICATION_FUNCTION_NAME, V3,
	  "WebRTC-Authentication-Function-Name", UTF8, MAY),
	A(WEBRTC_WEB_SERVER_FUNCTION_NAME, V3,
	  "WebRTC-Web-Server-Function-Name", UTF8, MAY),
	A(RTR_FLAGS, V3, "RTR-Flags", U32, MAY),
	AG(P_CSCF_SUBSCRIPTION_INFO, V3, "P-CSCF-Subscription-Info", MAY, NULL),
	A(REGISTRATION_TIME_OUT, V3, "Registration-Time-Out", TIME, MAY),
	AG(FAILED_PCSCF, V3, "Failed-PCSCF", MAY, NULL),

	/* TS 29.329 6.3 */
	AG(USER_IDENTITY, V3, "User-Identity", MUST, &g_user_identity),
	A(MSISDN, V3, "MSISDN", OCTETS, MUST),
	A(SH_USER_DATA, V3, "User-Data", OCTETS, MUST),
	A(DATA_REFERENCE, V3, "Data-Reference", ENUM, MUST),
	A(SERVICE_INDICATION, V3, "Service-Indication", OCTETS, MUST),
	A(SUBS_REQ_TYPE, V3, "Subs-Req-Type", ENUM, MUST),
	A(REQUESTED_DOMAIN, V3, "Requested-Domain", ENUM, MUST),
	A(CURRENT_LOCATION, V3, "Current-Location", ENUM, MUST),
	A(IDENTITY_SET, V3, "Identity-Set", ENUM, MAY),
	A(EXPIRY_TIME, V3, "Expiry-Time", TIME, MAY),
	A(SEND_DATA_INDICATION, V3, "Send-Data-Indication", ENUM, MAY),
	A(DSAI_TAG, V3, "DSAI-Tag", OCTETS, MUST),
	A(ONE_TIME_NOTIFICATION, V3, "One-Time-Notification", ENUM, MAY),
	A(REQUESTED_NODES, V3, "Requested-Nodes", U32, MAY),
	A(SERVING_NODE_INDICATION, V3, "Serving-Node-Indication", ENUM, MAY),
	AG(REPOSITORY_DATA_ID, V3, "Repository-Data-ID", MAY, &g_repo),
	A(SEQUENCE_NUMBER, V3, "Sequence-Number", U32, MAY),
	A(PRE_PAGING_SUPPORTED, V3, "Pre-paging-Supported", ENUM, MAY),
	A(LOCAL_TIME_ZONE_INDICATION, V3, "Local-Time-Zone-Indication", ENUM,
	  MAY),
	A(UDR_FLAGS, V3, "UDR-Flags", U32, MAY),
	AG(CALL_REFERENCE_INFO, V3, "Call-Reference-Info", MAY, &g_cri),
	A(CALL_REFERENCE_NUMBER, V3, "Call-Reference-Number", OCTETS, MAY),
	A(AS_NUMBER, V3, "AS-Number", OCTETS, MAY),
};

#define NAVPS (sizeof(avps) / sizeof(avps[0]))

/* ---- Command grammars ---- */

/* RFC 6733 5.3.1, 5.3.2 */
static const struct dia_rule c_cer_v[] = {
	B(ORIGIN_HOST, 1, 1),
	B(ORIGIN_REALM, 1, 1),
	B(HOST_IP_ADDRESS, 1, N),
	B(VENDOR_ID, 1, 1),
	B(PRODUCT_NAME, 1, 1),
	B(ORIGIN_STATE_ID, 0, 1),
	B(SUPPORTED_VENDOR_ID, 0, N),
	B(AUTH_APPLICATION_ID, 0, N),
	B(INBAND_SECURITY_ID, 0, N),
	B(ACCT_APPLICATION_ID, 0, N),
	B(VENDOR_SPECIFIC_APPLICATION_ID, 0, N),
	B(FIRMWARE_REVISION, 0, 1),
};
GRAMMAR(c_cer, true);

static const struct dia_rule c_cea_v[] = {
	B(RESULT_CODE, 1, 1),         B(ORIGIN_HOST, 1, 1),
	B(ORIGIN_REALM, 1, 1),        B(HOST_IP_ADDRESS, 1, N),
	B(VENDOR_ID, 1, 1),           B(PRODUCT_NAME, 1, 1),
	B(ORIGIN_STATE_ID, 0, 1),     B(ERROR_MESSAGE, 0, 1),
	B(FAILED_AVP, 0, 1),          B(SUPPORTED_VENDOR_ID, 0, N),
	B(AUTH_APPLICATION_ID, 0, N), B(INBAND_SECURITY_ID, 0, N),
	B(ACCT_APPLICATION_ID, 0, N), B(VENDOR_SPECIFIC_APPLICATION_ID, 0, N),
	B(FIRMWARE_REVISION, 0, 1),
};
GRAMMAR(c_cea, true);

/* RFC 6733 5.5.1, 5.5.2 */
static const struct dia_rule c_dwr_v[] = {
	B(ORIGIN_HOST, 1, 1),
	B(ORIGIN_REALM, 1, 1),
	B(ORIGIN_STATE_ID, 0, 1),
};
GRAMMAR(c_dwr, true);

static const struct dia_rule c_dwa_v[] = {
	B(RESULT_CODE, 1, 1),   B(ORIGIN_HOST, 1, 1), B(ORIGIN_REALM, 1, 1),
	B(ERROR_MESSAGE, 0, 1), B(FAILED_AVP, 0, 1),  B(ORIGIN_STATE_ID, 0, 1),
};
GRAMMAR(c_dwa, true);

/* RFC 6733 5.4.1, 5.4.2 */
static const struct dia_rule c_dpr_v[] = {
	B(ORIGIN_HOST, 1, 1),
	B(ORIGIN_REALM, 1, 1),
	B(DISCONNECT_CAUSE, 1, 1),
};
GRAMMAR(c_dpr, true);

static const struct dia_rule c_dpa_v[] = {
	B(RESULT_CODE, 1, 1),   B(ORIGIN_HOST, 1, 1), B(ORIGIN_REALM, 1, 1),
	B(ERROR_MESSAGE, 0, 1), B(FAILED_AVP, 0, 1),
};
GRAMMAR(c_dpa, true);

/* RFC 6733 7.2: any answer with the E bit */
static const struct dia_rule c_error_v[] = {
	B(SESSION_ID, 0, 1),           B(ORIGIN_HOST, 1, 1),
	B(ORIGIN_REALM, 1, 1),         B(RESULT_CODE, 1, 1),
	B(ORIGIN_STATE_ID, 0, 1),      B(ERROR_MESSAGE, 0, 1),
	B(ERROR_REPORTING_HOST, 0, 1), B(FAILED_AVP, 0, 1),
	B(EXPERIMENTAL_RESULT, 0, 1),  B(PROXY_INFO, 0, N),
};
GRAMMAR(c_error, true);

/* The head every Cx/Dx and Sh request and answer starts with, and the
 * tail they end with (TS 29.229 6.1, TS 29.329 6.1). */
#define REQ_HEAD                                                   \
	B(SESSION_ID, 1, 1), B(DRMP, 0, 1),                        \
		B(VENDOR_SPECIFIC_APPLICATION_ID, 1, 1),           \
		B(AUTH_SESSION_STATE, 1, 1), B(ORIGIN_HOST, 1, 1), \
		B(ORIGIN_REALM, 1, 1), B(DESTINATION_REALM, 1, 1), \
		G(SUPPORTED_FEATURES, 0, N), B(OC_SUPPORTED_FEATURES, 0, 1)
#define ANS_HEAD                                                               \
	B(SESSION_ID, 1, 1), B(DRMP, 0, 1),                                    \
		B(VENDOR_SPECIFIC_APPLICATION_ID, 1, 1), B(RESULT_CODE, 0, 1), \
		B(EXPERIMENTAL_RESULT, 0, 1), B(AUTH_SESSION_STATE, 1, 1),     \
		B(ORIGIN_HOST, 1, 1), B(ORIGIN_REALM, 1, 1),                   \
		G(SUPPORTED_FEATURES, 0, N), B(OC_SUPPORTED_FEATURES, 0, 1),   \
		B(OC_OLR, 0, 1), B(LOAD, 0, N), B(FAILED_AVP, 0, N)
#define TAIL B(PROXY_INFO, 0, N), B(ROUTE_RECORD, 0, N)

/* TS 29.229 6.1.1 .. 6.1.12 */
static const struct dia_rule c_uar_v[] = {
	REQ_HEAD,
	B(DESTINATION_HOST, 0, 1),
	B(USER_NAME, 1, 1),
	G(PUBLIC_IDENTITY, 1, 1),
	G(VISITED_NETWORK_IDENTIFIER, 1, 1),
	G(USER_AUTHORIZATION_TYPE, 0, 1),
	G(UAR_FLAGS, 0, 1),
	TAIL,
};
GRAMMAR(c_uar, true);

static const struct dia_rule c_uaa_v[] = {
	ANS_HEAD,
	G(SERVER_NAME, 0, 1),
	G(SERVER_CAPABILITIES, 0, 1),
	TAIL,
};
GRAMMAR(c_uaa, true);

static const struct dia_rule c_sar_v[] = {
	REQ_HEAD,
	B(DESTINATION_HOST, 0, 1),
	B(USER_NAME, 0, 1),
	G(PUBLIC_IDENTITY, 0, N),
	G(WILDCARDED_PUBLIC_IDENTITY, 0, 1),
	G(SERVER_NAME, 1, 1),
	G(SERVER_ASSIGNMENT_TYPE, 1, 1),
	G(USER_DATA_ALREADY_AVAILABLE, 1, 1),
	G(SCSCF_RESTORATION_INFO, 0, 1),
	G(MULTIPLE_REGISTRATION_INDICATION, 0, 1),
	G(SESSION_PRIORITY, 0, 1),
	G(SAR_FLAGS, 0, 1),
	TAIL,
};
GRAMMAR(c_sar, true);

static const struct dia_rule c_saa_v[] = {
	ANS_HEAD,
	B(USER_NAME, 0, 1),
	G(USER_DATA, 0, 1),
	G(CHARGING_INFORMATION, 0, 1),
	G(ASSOCIATED_IDENTITIES, 0, 1),
	G(LOOSE_ROUTE_INDICATION, 0, 1),
	G(SCSCF_RESTORATION_INFO, 0, N),
	G(ASSOCIATED_REGISTERED_IDENTITIES, 0, 1),
	G(SERVER_NAME, 0, 1),
	G(WILDCARDED_PUBLIC_IDENTITY, 0, 1),
	G(PRIVILEDGED_SENDER_INDICATION, 0, 1),
	G(ALLOWED_WAF_WWSF_IDENTITIES, 0, 1),
	TAIL,
};
GRAMMAR(c_saa, true);

static const struct dia_rule c_lir_v[] = {
	REQ_HEAD,
	B(DESTINATION_HOST, 0, 1),
	G(ORIGINATING_REQUEST, 0, 1),
	G(PUBLIC_IDENTITY, 1, 1),
	G(USER_AUTHORIZATION_TYPE, 0, 1),
	G(SESSION_PRIORITY, 0, 1),
	TAIL,
};
GRAMMAR(c_lir, true);

static const struct dia_rule c_lia_v[] = {
	ANS_HEAD,
	G(SERVER_NAME, 0, 1),
	G(SERVER_CAPABILITIES, 0, 1),
	G(WILDCARDED_PUBLIC_IDENTITY, 0, 1),
	G(LIA_FLAGS, 0, 1),
	TAIL,
};
GRAMMAR(c_lia, true);

static const struct dia_rule c_mar_v[] = {
	REQ_HEAD,
	B(DESTINATION_HOST, 0, 1),
	B(USER_NAME, 1, 1),
	G(PUBLIC_IDENTITY, 1, 1),
	G(SIP_AUTH_DATA_ITEM, 1, 1),
	G(SIP_NUMBER_AUTH_ITEMS, 1, 1),
	G(SERVER_NAME, 1, 1),
	TAIL,
};
GRAMMAR(c_mar, true);

static const struct dia_rule c_maa_v[] = {
	ANS_HEAD,
	B(USER_NAME, 0, 1),
	G(PUBLIC_IDENTITY, 0, 1),
	G(SIP_NUMBER_AUTH_ITEMS, 0, 1),
	G(SIP_AUTH_DATA_ITEM, 0, N),
	TAIL,
};
GRAMMAR(c_maa, true);

static const struct dia_rule c_rtr_v[] = {
	REQ_HEAD,
	B(DESTINATION_HOST, 1, 1),
	B(USER_NAME, 1, 1),
	G(PUBLIC_IDENTITY, 0, N),
	G(ASSOCIATED_IDENTITIES, 0, 1),
	G(DEREGISTRATION_REASON, 1, 1),
	G(RTR_FLAGS, 0, 1),
	TAIL,
};
GRAMMAR(c_rtr, true);

static const struct dia_rule c_rta_v[] = {
	ANS_HEAD,
	G(ASSOCIATED_IDENTITIES, 0, 1),
	G(IDENTITY_WITH_EMERGENCY_REGISTRATION, 0, N),
	TAIL,
};
GRAMMAR(c_rta, true);

static const struct dia_rule c_ppr_v[] = {
	REQ_HEAD,
	B(DESTINATION_HOST, 1, 1),
	B(USER_NAME, 1, 1),
	G(USER_DATA, 0, 1),
	G(CHARGING_INFORMATION, 0, 1),
	G(SIP_AUTH_DATA_ITEM, 0, 1),
	G(ALLOWED_WAF_WWSF_IDENTITIES, 0, 1),
	TAIL,
};
GRAMMAR(c_ppr, true);

static const struct dia_rule c_ppa_v[] = {
	ANS_HEAD,
	TAIL,
};
GRAMMAR(c_ppa, true);

/* TS 29.329 6.1.1 .. 6.1.8 */
static const struct dia_rule c_udr_v[] = {
	REQ_HEAD,
	B(DESTINATION_HOST, 0, 1),
	G(USER_IDENTITY, 1, 1),
	G(WILDCARDED_PUBLIC_IDENTITY, 0, 1),
	G(WILDCARDED_IMPU, 0, 1),
	G(SERVER_NAME, 0, 1),
	G(SERVICE_INDICATION, 0, N),
	G(DATA_REFERENCE, 1, N),
	G(IDENTITY_SET, 0, N),
	G(REQUESTED_DOMAIN, 0, 1),
	G(CURRENT_LOCATION, 0, 1),
	G(DSAI_TAG, 0, N),
	G(SESSION_PRIORITY, 0, 1),
	B(USER_NAME, 0, 1),
	G(REQUESTED_NODES, 0, 1),
	G(SERVING_NODE_INDICATION, 0, 1),
	G(PRE_PAGING_SUPPORTED, 0, 1),
	G(LOCAL_TIME_ZONE_INDICATION, 0, 1),
	G(UDR_FLAGS, 0, 1),
	G(CALL_REFERENCE_INFO, 0, 1),
	TAIL,
};
GRAMMAR(c_udr, true);

static const struct dia_rule c_uda_v[] = {
	ANS_HEAD,
	G(WILDCARDED_PUBLIC_IDENTITY, 0, 1),
	G(WILDCARDED_IMPU, 0, 1),
	G(SH_USER_DATA, 0, 1),
	TAIL,
};
GRAMMAR(c_uda, true);

static const struct dia_rule c_pur_v[] = {
	REQ_HEAD,
	B(DESTINATION_HOST, 0, 1),
	G(USER_IDENTITY, 1, 1),
	G(WILDCARDED_PUBLIC_IDENTITY, 0, 1),
	G(WILDCARDED_IMPU, 0, 1),
	B(USER_NAME, 0, 1),
	G(DATA_REFERENCE, 1, N),
	G(SH_USER_DATA, 1, 1),
	TAIL,
};
GRAMMAR(c_pur, true);

static const struct dia_rule c_pua_v[] = {
	ANS_HEAD,
	G(WILDCARDED_PUBLIC_IDENTITY, 0, 1),
	G(WILDCARDED_IMPU, 0, 1),
	G(REPOSITORY_DATA_ID, 0, 1),
	G(DATA_REFERENCE, 0, 1),
	TAIL,
};
GRAMMAR(c_pua, true);

static const struct dia_rule c_snr_v[] = {
	REQ_HEAD,
	B(DESTINATION_HOST, 0, 1),
	G(USER_IDENTITY, 1, 1),
	G(WILDCARDED_PUBLIC_IDENTITY, 0, 1),
	G(WILDCARDED_IMPU, 0, 1),
	G(SERVICE_INDICATION, 0, N),
	G(SEND_DATA_INDICATION, 0, 1),
	G(SERVER_NAME, 0, 1),
	G(SUBS_REQ_TYPE, 1, 1),
	G(DATA_REFERENCE, 1, N),
	G(IDENTITY_SET, 0, N),
	G(EXPIRY_TIME, 0, 1),
	G(DSAI_TAG, 0, N),
	G(ONE_TIME_NOTIFICATION, 0, 1),
	B(USER_NAME, 0, 1),
	TAIL,
};
GRAMMAR(c_snr, true);

static const struct dia_rule c_sna_v[] = {
	ANS_HEAD,
	G(WILDCARDED_PUBLIC_IDENTITY, 0, 1),
	G(WILDCARDED_IMPU, 0, 1),
	G(SH_USER_DATA, 0, 1),
	G(EXPIRY_TIME, 0, 1),
	TAIL,
};
GRAMMAR(c_sna, true);

static const struct dia_rule c_pnr_v[] = {
	REQ_HEAD,
	B(DESTINATION_HOST, 1, 1),
	G(USER_IDENTITY, 1, 1),
	G(WILDCARDED_PUBLIC_IDENTITY, 0, 1),
	G(WILDCARDED_IMPU, 0, 1),
	B(USER_NAME, 0, 1),
	G(SH_USER_DATA, 1, 1),
	TAIL,
};
GRAMMAR(c_pnr, true);

static const struct dia_rule c_pna_v[] = {
	ANS_HEAD,
	TAIL,
};
GRAMMAR(c_pna, true);

/* sorted by code; one application per code here */
static const struct dia_cmd_def cmds[] = {
	{ DIA_CMD_CE, DIA_APP_COMMON, "CER", "CEA", "Capabilities-Exchange",
	  false, &c_cer, &c_cea },
	{ DIA_CMD_DW, DIA_APP_COMMON, "DWR", "DWA", "Device-Watchdog", false,
	  &c_dwr, &c_dwa },
	{ DIA_CMD_DP, DIA_APP_COMMON, "DPR", "DPA", "Disconnect-Peer", false,
	  &c_dpr, &c_dpa },
	{ DIA_CMD_UA, DIA_APP_CX, "UAR", "UAA", "User-Authorization", true,
	  &c_uar, &c_uaa },
	{ DIA_CMD_SA, DIA_APP_CX, "SAR", "SAA", "Server-Assignment", true,
	  &c_sar, &c_saa },
	{ DIA_CMD_LI, DIA_APP_CX, "LIR", "LIA", "Location-Info", true, &c_lir,
	  &c_lia },
	{ DIA_CMD_MA, DIA_APP_CX, "MAR", "MAA", "Multimedia-Auth", true, &c_mar,
	  &c_maa },
	{ DIA_CMD_RT, DIA_APP_CX, "RTR", "RTA", "Registration-Termination",
	  true, &c_rtr, &c_rta },
	{ DIA_CMD_PP, DIA_APP_CX, "PPR", "PPA", "Push-Profile", true, &c_ppr,
	  &c_ppa },
	{ DIA_CMD_UD, DIA_APP_SH, "UDR", "UDA", "User-Data", true, &c_udr,
	  &c_uda },
	{ DIA_CMD_PU, DIA_APP_SH, "PUR", "PUA", "Profile-Update", true, &c_pur,
	  &c_pua },
	{ DIA_CMD_SN, DIA_APP_SH, "SNR", "SNA", "Subscribe-Notifications", true,
	  &c_snr, &c_sna },
	{ DIA_CMD_PN, DIA_APP_SH, "PNR", "PNA", "Push-Notification", true,
	  &c_pnr, &c_pna },
};

#define NCMDS (sizeof(cmds) / sizeof(cmds[0]))

/* ---- Enumerated values, sorted by (vendor, code, value) ---- */

struct enum_def {
	uint32_t code;
	uint32_t vendor;
	int32_t val;
	const char *name;
};

#define E0(c, v, n)                  \
	{                            \
		DIA_AVP_##c, 0, v, n \
	}
#define E3(c, v, n)                   \
	{                             \
		DIA_AVP_##c, V3, v, n \
	}

static const struct enum_def enums[] = {
	E0(REDIRECT_HOST_USAGE, 0, "DONT_CACHE"),
	E0(REDIRECT_HOST_USAGE, 1, "ALL_SESSION"),
	E0(REDIRECT_HOST_USAGE, 2, "ALL_REALM"),
	E0(REDIRECT_HOST_USAGE, 3, "REALM_AND_APPLICATION"),
	E0(REDIRECT_HOST_USAGE, 4, "ALL_APPLICATION"),
	E0(REDIRECT_HOST_USAGE, 5, "ALL_HOST"),
	E0(REDIRECT_HOST_USAGE, 6, "ALL_USER"),
	E0(SESSION_SERVER_FAILOVER, 0, "REFUSE_SERVICE"),
	E0(SESSION_SERVER_FAILOVER, 1, "TRY_AGAIN"),
	E0(SESSION_SERVER_FAILOVER, 2, "ALLOW_SERVICE"),
	E0(SESSION_SERVER_FAILOVER, 3, "TRY_AGAIN_ALLOW_SERVICE"),
	E0(DISCONNECT_CAUSE, 0, "REBOOTING"),
	E0(DISCONNECT_CAUSE, 1, "BUSY"),
	E0(DISCONNECT_CAUSE, 2, "DO_NOT_WANT_TO_TALK_TO_YOU"),
	E0(AUTH_REQUEST_TYPE, 1, "AUTHENTICATE_ONLY"),
	E0(AUTH_REQUEST_TYPE, 2, "AUTHORIZE_ONLY"),
	E0(AUTH_REQUEST_TYPE, 3, "AUTHORIZE_AUTHENTICATE"),
	E0(AUTH_SESSION_STATE, 0, "STATE_MAINTAINED"),
	E0(AUTH_SESSION_STATE, 1, "NO_STATE_MAINTAINED"),
	E0(RE_AUTH_REQUEST_TYPE, 0, "AUTHORIZE_ONLY"),
	E0(RE_AUTH_REQUEST_TYPE, 1, "AUTHORIZE_AUTHENTICATE"),
	E0(TERMINATION_CAUSE, 1, "DIAMETER_LOGOUT"),
	E0(TERMINATION_CAUSE, 2, "DIAMETER_SERVICE_NOT_PROVIDED"),
	E0(TERMINATION_CAUSE, 3, "DIAMETER_BAD_ANSWER"),
	E0(TERMINATION_CAUSE, 4, "DIAMETER_ADMINISTRATIVE"),
	E0(TERMINATION_CAUSE, 5, "DIAMETER_LINK_BROKEN"),
	E0(TERMINATION_CAUSE, 6, "DIAMETER_AUTH_EXPIRED"),
	E0(TERMINATION_CAUSE, 7, "DIAMETER_USER_MOVED"),
	E0(TERMINATION_CAUSE, 8, "DIAMETER_SESSION_TIMEOUT"),
	E0(ACCOUNTING_RECORD_TYPE, 1, "EVENT_RECORD"),
	E0(ACCOUNTING_RECORD_TYPE, 2, "START_RECORD"),
	E0(ACCOUNTING_RECORD_TYPE, 3, "INTERIM_RECORD"),
	E0(ACCOUNTING_RECORD_TYPE, 4, "STOP_RECORD"),
	E0(ACCOUNTING_REALTIME_REQUIRED, 1, "DELIVER_AND_GRANT"),
	E0(ACCOUNTING_REALTIME_REQUIRED, 2, "GRANT_AND_STORE"),
	E0(ACCOUNTING_REALTIME_REQUIRED, 3, "GRANT_AND_LOSE"),
	E0(OC_REPORT_TYPE, 0, "HOST_REPORT"),
	E0(OC_REPORT_TYPE, 1, "REALM_REPORT"),
	E0(LOAD_TYPE, 0, "HOST"),
	E0(LOAD_TYPE, 1, "PEER"),

	E3(SERVER_ASSIGNMENT_TYPE, 0, "NO_ASSIGNMENT"),
	E3(SERVER_ASSIGNMENT_TYPE, 1, "REGISTRATION"),
	E3(SERVER_ASSIGNMENT_TYPE, 2, "RE_REGISTRATION"),
	E3(SERVER_ASSIGNMENT_TYPE, 3, "UNREGISTERED_USER"),
	E3(SERVER_ASSIGNMENT_TYPE, 4, "TIMEOUT_DEREGISTRATION"),
	E3(SERVER_ASSIGNMENT_TYPE, 5, "USER_DEREGISTRATION"),
	E3(SERVER_ASSIGNMENT_TYPE, 6,
	   "TIMEOUT_DEREGISTRATION_STORE_SERVER_NAME"),
	E3(SERVER_ASSIGNMENT_TYPE, 7, "USER_DEREGISTRATION_STORE_SERVER_NAME"),
	E3(SERVER_ASSIGNMENT_TYPE, 8, "ADMINISTRATIVE_DEREGISTRATION"),
	E3(SERVER_ASSIGNMENT_TYPE, 9, "AUTHENTICATION_FAILURE"),
	E3(SERVER_ASSIGNMENT_TYPE, 10, "AUTHENTICATION_TIMEOUT"),
	E3(SERVER_ASSIGNMENT_TYPE, 11, "DEREGISTRATION_TOO_MUCH_DATA"),
	E3(SERVER_ASSIGNMENT_TYPE, 12, "AAA_USER_DATA_REQUEST"),
	E3(SERVER_ASSIGNMENT_TYPE, 13, "PGW_UPDATE"),
	E3(SERVER_ASSIGNMENT_TYPE, 14, "RESTORATION"),
	E3(REASON_CODE, 0, "PERMANENT_TERMINATION"),
	E3(REASON_CODE, 1, "NEW_SERVER_ASSIGNED"),
	E3(REASON_CODE, 2, "SERVER_CHANGE"),
	E3(REASON_CODE, 3, "REMOVE_S-CSCF"),
	E3(USER_AUTHORIZATION_TYPE, 0, "REGISTRATION"),
	E3(USER_AUTHORIZATION_TYPE, 1, "DE_REGISTRATION"),
	E3(USER_AUTHORIZATION_TYPE, 2, "REGISTRATION_AND_CAPABILITIES"),
	E3(USER_DATA_ALREADY_AVAILABLE, 0, "USER_DATA_NOT_AVAILABLE"),
	E3(USER_DATA_ALREADY_AVAILABLE, 1, "USER_DATA_ALREADY_AVAILABLE"),
	E3(ORIGINATING_REQUEST, 0, "ORIGINATING"),
	E3(LOOSE_ROUTE_INDICATION, 0, "LOOSE_ROUTE_NOT_REQUIRED"),
	E3(LOOSE_ROUTE_INDICATION, 1, "LOOSE_ROUTE_REQUIRED"),
	E3(MULTIPLE_REGISTRATION_INDICATION, 0, "NOT_MULTIPLE_REGISTRATION"),
	E3(MULTIPLE_REGISTRATION_INDICATION, 1, "MULTIPLE_REGISTRATION"),
	E3(SESSION_PRIORITY, 0, "PRIORITY-0"),
	E3(SESSION_PRIORITY, 1, "PRIORITY-1"),
	E3(SESSION_PRIORITY, 2, "PRIORITY-2"),
	E3(SESSION_PRIORITY, 3, "PRIORITY-3"),
	E3(SESSION_PRIORITY, 4, "PRIORITY-4"),
	E3(PRIVILEDGED_SENDER_INDICATION, 0, "NOT_PRIVILEDGED_SENDER"),
	E3(PRIVILEDGED_SENDER_INDICATION, 1, "PRIVILEDGED_SENDER"),
	E3(DATA_REFERENCE, 0, "RepositoryData"),
	E3(DATA_REFERENCE, 10, "IMSPublicIdentity"),
	E3(DATA_REFERENCE, 11, "IMSUserState"),
	E3(DATA_REFERENCE, 12, "S-CSCFName"),
	E3(DATA_REFERENCE, 13, "InitialFilterCriteria"),
	E3(DATA_REFERENCE, 14, "LocationInformation"),
	E3(DATA_REFERENCE, 15, "UserState"),
	E3(DATA_REFERENCE, 16, "ChargingInformation"),
	E3(DATA_REFERENCE, 17, "MSISDN"),
	E3(DATA_REFERENCE, 18, "PSIActivation"),
	E3(DATA_REFERENCE, 19, "DSAI"),
	E3(DATA_REFERENCE, 21, "ServiceLevelTraceInfo"),
	E3(DATA_REFERENCE, 22, "IPAddressSecureBindingInformation"),
	E3(DATA_REFERENCE, 23, "ServicePriorityLevel"),
	E3(DATA_REFERENCE, 24, "SMSRegistrationInfo"),
	E3(DATA_REFERENCE, 25, "UEReachabilityForIP"),
	E3(DATA_REFERENCE, 26, "TADSinformation"),
	E3(DATA_REFERENCE, 27, "STN-SR"),
	E3(DATA_REFERENCE, 28, "UE-SRVCC-Capability"),
	E3(DATA_REFERENCE, 29, "ExtendedPriority"),
	E3(DATA_REFERENCE, 30, "CSRN"),
	E3(DATA_REFERENCE, 31, "ReferenceLocationInformation"),
	E3(DATA_REFERENCE, 32, "IMSI"),
	E3(DATA_REFERENCE, 33, "IMSPrivateUserIdentity"),
	E3(SUBS_REQ_TYPE, 0, "Subscribe"),
	E3(SUBS_REQ_TYPE, 1, "Unsubscribe"),
	E3(REQUESTED_DOMAIN, 0, "CS-Domain"),
	E3(REQUESTED_DOMAIN, 1, "PS-Domain"),
	E3(CURRENT_LOCATION, 0, "DoNotNeedInitiateActiveLocationRetrieval"),
	E3(CURRENT_LOCATION, 1, "InitiateActiveLocationRetrieval"),
	E3(IDENTITY_SET, 0, "ALL_IDENTITIES"),
	E3(IDENTITY_SET, 1, "REGISTERED_IDENTITIES"),
	E3(IDENTITY_SET, 2, "IMPLICIT_IDENTITIES"),
	E3(IDENTITY_SET, 3, "ALIAS_IDENTITIES"),
	E3(SEND_DATA_INDICATION, 0, "USER_DATA_NOT_REQUESTED"),
	E3(SEND_DATA_INDICATION, 1, "USER_DATA_REQUESTED"),
	E3(ONE_TIME_NOTIFICATION, 0, "ONE_TIME_NOTIFICATION_REQUESTED"),
};

#define NENUMS (sizeof(enums) / sizeof(enums[0]))

/* ---- Result codes, sorted by (vendor, code) ---- */

struct rcode_def {
	uint32_t vendor;
	uint32_t code;
	const char *name;
};

static const struct rcode_def rcodes[] = {
	{ 0, 1001, "DIAMETER_MULTI_ROUND_AUTH" },
	{ 0, 2001, "DIAMETER_SUCCESS" },
	{ 0, 2002, "DIAMETER_LIMITED_SUCCESS" },
	{ 0, 3001, "DIAMETER_COMMAND_UNSUPPORTED" },
	{ 0, 3002, "DIAMETER_UNABLE_TO_DELIVER" },
	{ 0, 3003, "DIAMETER_REALM_NOT_SERVED" },
	{ 0, 3004, "DIAMETER_TOO_BUSY" },
	{ 0, 3005, "DIAMETER_LOOP_DETECTED" },
	{ 0, 3006, "DIAMETER_REDIRECT_INDICATION" },
	{ 0, 3007, "DIAMETER_APPLICATION_UNSUPPORTED" },
	{ 0, 3008, "DIAMETER_INVALID_HDR_BITS" },
	{ 0, 3009, "DIAMETER_INVALID_AVP_BITS" },
	{ 0, 3010, "DIAMETER_UNKNOWN_PEER" },
	{ 0, 4001, "DIAMETER_AUTHENTICATION_REJECTED" },
	{ 0, 4002, "DIAMETER_OUT_OF_SPACE" },
	{ 0, 4003, "ELECTION_LOST" },
	{ 0, 5001, "DIAMETER_AVP_UNSUPPORTED" },
	{ 0, 5002, "DIAMETER_UNKNOWN_SESSION_ID" },
	{ 0, 5003, "DIAMETER_AUTHORIZATION_REJECTED" },
	{ 0, 5004, "DIAMETER_INVALID_AVP_VALUE" },
	{ 0, 5005, "DIAMETER_MISSING_AVP" },
	{ 0, 5006, "DIAMETER_RESOURCES_EXCEEDED" },
	{ 0, 5007, "DIAMETER_CONTRADICTING_AVPS" },
	{ 0, 5008, "DIAMETER_AVP_NOT_ALLOWED" },
	{ 0, 5009, "DIAMETER_AVP_OCCURS_TOO_MANY_TIMES" },
	{ 0, 5010, "DIAMETER_NO_COMMON_APPLICATION" },
	{ 0, 5011, "DIAMETER_UNSUPPORTED_VERSION" },
	{ 0, 5012, "DIAMETER_UNABLE_TO_COMPLY" },
	{ 0, 5013, "DIAMETER_INVALID_BIT_IN_HEADER" },
	{ 0, 5014, "DIAMETER_INVALID_AVP_LENGTH" },
	{ 0, 5015, "DIAMETER_INVALID_MESSAGE_LENGTH" },
	{ 0, 5016, "DIAMETER_INVALID_AVP_BIT_COMBO" },
	{ 0, 5017, "DIAMETER_NO_COMMON_SECURITY" },
	{ V3, 2001, "DIAMETER_FIRST_REGISTRATION" },
	{ V3, 2002, "DIAMETER_SUBSEQUENT_REGISTRATION" },
	{ V3, 2003, "DIAMETER_UNREGISTERED_SERVICE" },
	{ V3, 2004, "DIAMETER_SUCCESS_SERVER_NAME_NOT_STORED" },
	{ V3, 4100, "DIAMETER_USER_DATA_NOT_AVAILABLE" },
	{ V3, 4101, "DIAMETER_PRIOR_UPDATE_IN_PROGRESS" },
	{ V3, 5001, "DIAMETER_ERROR_USER_UNKNOWN" },
	{ V3, 5002, "DIAMETER_ERROR_IDENTITIES_DONT_MATCH" },
	{ V3, 5003, "DIAMETER_ERROR_IDENTITY_NOT_REGISTERED" },
	{ V3, 5004, "DIAMETER_ERROR_ROAMING_NOT_ALLOWED" },
	{ V3, 5005, "DIAMETER_ERROR_IDENTITY_ALREADY_REGISTERED" },
	{ V3, 5006, "DIAMETER_ERROR_AUTH_SCHEME_NOT_SUPPORTED" },
	{ V3, 5007, "DIAMETER_ERROR_IN_ASSIGNMENT_TYPE" },
	{ V3, 5008, "DIAMETER_ERROR_TOO_MUCH_DATA" },
	{ V3, 5009, "DIAMETER_ERROR_NOT_SUPPORTED_USER_DATA" },
	{ V3, 5011, "DIAMETER_ERROR_FEATURE_UNSUPPORTED" },
	{ V3, 5012, "DIAMETER_ERROR_SERVING_NODE_FEATURE_UNSUPPORTED" },
	{ V3, 5100, "DIAMETER_ERROR_USER_DATA_NOT_RECOGNIZED" },
	{ V3, 5101, "DIAMETER_ERROR_OPERATION_NOT_ALLOWED" },
	{ V3, 5102, "DIAMETER_ERROR_USER_DATA_CANNOT_BE_READ" },
	{ V3, 5103, "DIAMETER_ERROR_USER_DATA_CANNOT_BE_MODIFIED" },
	{ V3, 5104, "DIAMETER_ERROR_USER_DATA_CANNOT_BE_NOTIFIED" },
	{ V3, 5105, "DIAMETER_ERROR_TRANSPARENT_DATA_OUT_OF_SYNC" },
	{ V3, 5106, "DIAMETER_ERROR_SUBS_DATA_ABSENT" },
	{ V3, 5107, "DIAMETER_ERROR_NO_SUBSCRIPTION_TO_DATA" },
	{ V3, 5108, "DIAMETER_ERROR_DSAI_NOT_AVAILABLE" },
};

#define NRCODES (sizeof(rcodes) / sizeof(rcodes[0]))

/* ---- Lookups ---- */

static int key_cmp(uint32_t va, uint32_t ca, uint32_t vb, uint32_t cb)
{
	if (va != vb)
		return va < vb ? -1 : 1;
	if (ca != cb)
		return ca < cb ? -1 : 1;
	return 0;
}


const struct dia_avp_def *dia_dict_avp(uint32_t code, uint32_t vendor)
{
	size_t lo = 0, hi = NAVPS;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int c = key_cmp(vendor, code, avps[mid].vendor, avps[mid].code);

		if (c == 0)
			return &avps[mid];
		if (c < 0)
			hi = mid;
		else
			lo = mid + 1;
	}
	return NULL;
}


const struct dia_avp_def *dia_dict_avp_by_name(const char *name)
{
	if (!name)
		return NULL;
	for (size_t i = 0; i < NAVPS; i++)
		if (!strcmp(avps[i].name, name))
			return &avps[i];
	return NULL;
}


const struct dia_cmd_def *dia_dict_cmd(uint32_t code, uint32_t app)
{
	for (size_t i = 0; i < NCMDS; i++)
		if (cmds[i].code == code && cmds[i].app == app)
			return &cmds[i];
	return NULL;
}


static bool cmd_code_known(uint32_t code)
{
	for (size_t i = 0; i < NCMDS; i++)
		if (cmds[i].code == code)
			return true;
	return false;
}


const char *dia_dict_enum_name(uint32_t code, uint32_t vendor, int32_t val)
{
	size_t lo = 0, hi = NENUMS;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		const struct enum_def *e = &enums[mid];
		int c = key_cmp(vendor, code, e->vendor, e->code);

		if (c == 0 && val != e->val)
			c = val < e->val ? -1 : 1;
		if (c == 0)
			return e->name;
		if (c < 0)
			hi = mid;
		else
			lo = mid + 1;
	}
	return NULL;
}


const char *dia_dict_rcode_name(uint32_t rcode, uint32_t vendor)
{
	size_t lo = 0, hi = NRCODES;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int c = key_cmp(vendor, rcode, rcodes[mid].vendor,
				rcodes[mid].code);

		if (c == 0)
			return rcodes[mid].name;
		if (c < 0)
			hi = mid;
		else
			lo = mid + 1;
	}
	return NULL;
}


const char *dia_dict_app_name(uint32_t app)
{
	switch (app) {

	case DIA_APP_COMMON:
		return "Common";
	case DIA_APP_CX:
		return "Cx/Dx";
	case DIA_APP_SH:
		return "Sh";
	case DIA_APP_RELAY:
		return "Relay";
	default:
		return NULL;
	}
}


const char *dia_type_name(enum dia_type type)
{
	static const char *const names[] = {
		[DIA_TYPE_OCTETS] = "OctetString",
		[DIA_TYPE_I32] = "Integer32",
		[DIA_TYPE_I64] = "Integer64",
		[DIA_TYPE_U32] = "Unsigned32",
		[DIA_TYPE_U64] = "Unsigned64",
		[DIA_TYPE_F32] = "Float32",
		[DIA_TYPE_F64] = "Float64",
		[DIA_TYPE_GROUPED] = "Grouped",
		[DIA_TYPE_ADDRESS] = "Address",
		[DIA_TYPE_TIME] = "Time",
		[DIA_TYPE_UTF8] = "UTF8String",
		[DIA_TYPE_IDENTITY] = "DiameterIdentity",
		[DIA_TYPE_URI] = "DiameterURI",
		[DIA_TYPE_ENUM] = "Enumerated",
	};

	if ((size_t)type >= sizeof(names) / sizeof(names[0]))
		return "?";
	return names[type];
}


size_t dia_type_min_len(enum dia_type type)
{
	switch (type) {

	case DIA_TYPE_I32:
	case DIA_TYPE_U32:
	case DIA_TYPE_F32:
	case DIA_TYPE_TIME:
	case DIA_TYPE_ENUM:
		return 4;
	case DIA_TYPE_I64:
	case DIA_TYPE_U64:
	case DIA_TYPE_F64:
		return 8;
	case DIA_TYPE_ADDRESS:
		return 2 + 4; /* family and an IPv4 address */
	default:
		return 0;
	}
}


static int check_grammar(const struct dia_grammar *g)
{
	if (!g)
		return 0;
	for (size_t i = 0; i < g->n; i++) {
		if (!dia_dict_avp(g->v[i].code, g->v[i].vendor))
			return EINVAL;
		if (g->v[i].min > g->v[i].max)
			return EINVAL;
		for (size_t j = 0; j < i; j++)
			if (g->v[j].code == g->v[i].code &&
			    g->v[j].vendor == g->v[i].vendor)
				return EINVAL;
	}
	return 0;
}


int dia_dict_check(void)
{
	for (size_t i = 0; i < NAVPS; i++) {
		if (i && key_cmp(avps[i - 1].vendor, avps[i - 1].code,
				 avps[i].vendor, avps[i].code) >= 0)
			return EINVAL;
		if (avps[i].group && avps[i].type != DIA_TYPE_GROUPED)
			return EINVAL;
		if (check_grammar(avps[i].group))
			return EINVAL;
	}
	for (size_t i = 0; i < NCMDS; i++)
		if (check_grammar(cmds[i].req) || check_grammar(cmds[i].ans))
			return EINVAL;
	if (check_grammar(&c_error))
		return EINVAL;
	for (size_t i = 1; i < NENUMS; i++) {
		const struct enum_def *a = &enums[i - 1], *b = &enums[i];
		int c = key_cmp(a->vendor, a->code, b->vendor, b->code);

		if (c > 0 || (c == 0 && a->val >= b->val))
			return EINVAL;
		if (!dia_dict_avp(b->code, b->vendor))
			return EINVAL;
	}
	for (size_t i = 1; i < NRCODES; i++)
		if (key_cmp(rcodes[i - 1].vendor, rcodes[i - 1].code,
			    rcodes[i].vendor, rcodes[i].code) >= 0)
			return EINVAL;
	return 0;
}

/* ---- Validation ---- */

static int verr(struct dia_err *e, uint32_t rcode, const char *reason,
		const struct dia_avp *avp)
{
	if (!e)
		return EPROTO;
	memset(e, 0, sizeof(*e));
	e->rcode = rcode;
	e->reason = reason;
	if (avp) {
		e->failed = true;
		e->avp = avp;
		e->avp_code = avp->code;
		e->avp_vendor = avp->vendor;
		e->avp_flags = avp->flags;
	}
	return EPROTO;
}


/* RFC 6733 7.1.5 DIAMETER_MISSING_AVP: "an example of the missing AVP
 * complete with the Vendor-Id if applicable", zero-filled. */
static int verr_missing(struct dia_err *e, const struct dia_rule *r)
{
	const struct dia_avp_def *def = dia_dict_avp(r->code, r->vendor);

	if (!e)
		return EPROTO;
	memset(e, 0, sizeof(*e));
	e->rcode = DIA_MISSING_AVP;
	e->reason = "missing AVP";
	e->failed = true;
	e->avp_code = r->code;
	e->avp_vendor = r->vendor;
	e->avp_flags =
		(uint8_t)((r->vendor ? DIA_AVP_FLAG_V : 0) |
			  (def && def->m == DIA_M_MUST ? DIA_AVP_FLAG_M : 0));
	return EPROTO;
}


/* RFC 3629: well-formed UTF-8 (no overlongs, no surrogates, <= U+10FFFF) */
static bool utf8_ok(const struct pl *pl)
{
	const uint8_t *p = (const uint8_t *)pl->p;
	size_t i = 0, n = pl->l;

	while (i < n) {
		uint8_t c = p[i];
		size_t k;
		uint32_t cp;

		if (c < 0x80) {
			i++;
			continue;
		}
		if (c >= 0xc2 && c <= 0xdf) {
			k = 1;
			cp = c & 0x1fu;
		} else if (c >= 0xe0 && c <= 0xef) {
			k = 2;
			cp = c & 0x0fu;
		} else if (c >= 0xf0 && c <= 0xf4) {
			k = 3;
			cp = c & 0x07u;
		} else {
			return false;
		}
		if (n - i - 1 < k)
			return false;
		for (size_t j = 1; j <= k; j++) {
			if ((p[i + j] & 0xc0u) != 0x80u)
				return false;
			cp = cp << 6 | (p[i + j] & 0x3fu);
		}
		if ((k == 2 && cp < 0x800) || (k == 3 && cp < 0x10000) ||
		    cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
			return false;
		i += k + 1;
	}
	return true;
}


static bool has_prefix(const struct pl *pl, const char *s)
{
	size_t n = strlen(s);

	return pl->l >= n && !memcmp(pl->p, s, n);
}


/* RFC 6733 4.2, 4.3.1: the data fits the type */
static int check_value(const struct dia_avp *avp, struct dia_err *e)
{
	const struct pl *v = &avp->val;
	size_t min = dia_type_min_len(avp->def->type);

	if (avp->grouped)
		return 0;

	switch (avp->def->type) {

	case DIA_TYPE_I32:
	case DIA_TYPE_U32:
	case DIA_TYPE_F32:
	case DIA_TYPE_TIME:
	case DIA_TYPE_ENUM:
	case DIA_TYPE_I64:
	case DIA_TYPE_U64:
	case DIA_TYPE_F64:
		if (v->l != min)
			return verr(e, DIA_INVALID_AVP_LENGTH,
				    "AVP length does not fit its type", avp);
		return 0;

	case DIA_TYPE_ADDRESS: {
		uint16_t fam;

		if (v->l < 2)
			return verr(e, DIA_INVALID_AVP_LENGTH,
				    "Address AVP too short", avp);
		fam = (uint16_t)((uint8_t)v->p[0] << 8 | (uint8_t)v->p[1]);
		if ((fam == DIA_ADDR_IPV4 && v->l != 6) ||
		    (fam == DIA_ADDR_IPV6 && v->l != 18))
			return verr(e, DIA_INVALID_AVP_LENGTH,
				    "Address AVP length does not fit its "
				    "family",
				    avp);
		return 0;
	}

	case DIA_TYPE_UTF8:
		if (!utf8_ok(v))
			return verr(e, DIA_INVALID_AVP_VALUE,
				    "AVP not valid UTF-8", avp);
		return 0;

	case DIA_TYPE_IDENTITY:
		if (!v->l || !utf8_ok(v))
			return verr(e, DIA_INVALID_AVP_VALUE,
				    "DiameterIdentity empty or not UTF-8", avp);
		return 0;

	case DIA_TYPE_URI:
		/* RFC 6733 4.3.1: "aaa://" or "aaas://" FQDN ... */
		if (!utf8_ok(v) ||
		    !(has_prefix(v, "aaa://") || has_prefix(v, "aaas://")))
			return verr(e, DIA_INVALID_AVP_VALUE,
				    "DiameterURI not aaa:// or aaas://", avp);
		return 0;

	default:
		/* OctetString; an opaque Grouped (only Failed-AVP is left
		 * so, msg.c) */
		return 0;
	}
}


static bool listed(const struct dia_grammar *g, const struct dia_avp *avp)
{
	for (size_t i = 0; i < g->n; i++)
		if (g->v[i].code == avp->code && g->v[i].vendor == avp->vendor)
			return true;
	return false;
}


static int check_avps(const struct dia_avp *parent, const struct dia_grammar *g,
		      struct dia_err *e, unsigned depth)
{
	const struct dia_avp *avp;
	int err;

	if (depth > DIA_DEPTH_MAX)
		return verr(e, DIA_UNABLE_TO_COMPLY,
			    "Grouped AVPs nested too deep", parent);

	for (avp = dia_avp_first(parent); avp; avp = dia_avp_sibling(avp)) {
		const struct dia_avp_def *def = avp->def;

		/* RFC 6733 4.1: reserved bits set, or V without a vendor */
		if ((avp->flags & DIA_AVP_FLAG_RSV) ||
		    ((avp->flags & DIA_AVP_FLAG_V) && !avp->vendor))
			return verr(e, DIA_INVALID_AVP_BITS,
				    "AVP flags invalid", avp);

		if (!def) {
			/* RFC 6733 4.1: an unknown AVP with M must be
			 * refused; others are ignored */
			if (avp->flags & DIA_AVP_FLAG_M)
				return verr(e, DIA_AVP_UNSUPPORTED,
					    "unknown AVP with the M bit", avp);
			continue;
		}

		if ((def->m == DIA_M_MUST && !(avp->flags & DIA_AVP_FLAG_M)) ||
		    (def->m == DIA_M_MUST_NOT && (avp->flags & DIA_AVP_FLAG_M)))
			return verr(e, DIA_INVALID_AVP_BITS,
				    "AVP M bit against its definition", avp);

		err = check_value(avp, e);
		if (err)
			return err;

		if (g && !g->any && !listed(g, avp))
			return verr(e, DIA_AVP_NOT_ALLOWED,
				    "AVP not allowed here", avp);

		if (avp->grouped) {
			err = check_avps(avp, def->group, e, depth + 1);
			if (err)
				return err;
		}
	}

	if (!g)
		return 0;

	for (size_t i = 0; i < g->n; i++) {
		const struct dia_rule *r = &g->v[i];
		unsigned n = 0;

		for (avp = dia_avp_find(parent, r->code, r->vendor); avp;
		     avp = dia_avp_next(avp)) {
			if (++n > r->max)
				return verr(e, DIA_AVP_OCCURS_TOO_MANY_TIMES,
					    "AVP occurs too many times", avp);
		}
		if (n < r->min)
			return verr_missing(e, r);
	}
	return 0;
}


/**
 * Validate a decoded (or built) message against the dictionary.
 *
 * @return 0, or EPROTO with *errp naming the Result-Code and Failed-AVP
 */
int dia_msg_validate(const struct dia_msg *msg, struct dia_err *errp)
{
	const struct dia_grammar *g;
	const struct dia_cmd_def *cmd;
	bool req;
	int err;

	if (!msg)
		return EINVAL;
	req = (msg->flags & DIA_FLAG_R) != 0;

	if (msg->version != DIA_VERSION)
		return verr(errp, DIA_UNSUPPORTED_VERSION,
			    "unsupported Diameter version", NULL);

	/* RFC 6733 3: reserved bits are zero; E never in a request */
	if ((msg->flags & DIA_FLAG_RSV) || (req && (msg->flags & DIA_FLAG_E)))
		return verr(errp, DIA_INVALID_HDR_BITS, "invalid command flags",
			    NULL);

	cmd = dia_dict_cmd(msg->code, msg->app);
	if (!cmd) {
		/* RFC 6733 7.1.3: a known command in an application we
		 * do not serve is 3007, an unknown command 3001 */
		if (cmd_code_known(msg->code))
			return verr(errp, DIA_APPLICATION_UNSUPPORTED,
				    "application not supported", NULL);
		return verr(errp, DIA_COMMAND_UNSUPPORTED,
			    "command not supported", NULL);
	}

	/* RFC 6733 3.2: "PXY" absent from the command's header spec */
	if (!cmd->pxy && (msg->flags & DIA_FLAG_P))
		return verr(errp, DIA_INVALID_HDR_BITS,
			    "P bit set on a command that is not proxiable",
			    NULL);

	if (req)
		g = cmd->req;
	else if (msg->flags & DIA_FLAG_E)
		g = &c_error;
	else
		g = cmd->ans;

	err = check_avps(&msg->root, g, errp, 0);
	if (err)
		return err;

	/* TS 29.229 6.2, TS 29.329 6.2: an answer carries Result-Code or
	 * Experimental-Result */
	if (!req && !dia_avp_find(&msg->root, DIA_AVP_RESULT_CODE, 0) &&
	    !dia_avp_find(&msg->root, DIA_AVP_EXPERIMENTAL_RESULT, 0)) {
		static const struct dia_rule rc = B(RESULT_CODE, 1, 1);

		return verr_missing(errp, &rc);
	}
	return 0;
}

/* ---- Printer ---- */

#define PRINT_STR_MAX 512 /* longer values are cut with "..." */
#define PRINT_HEX_MAX 64


static int print_str(struct buf *mb, const struct pl *v)
{
	size_t n = v->l < PRINT_STR_MAX ? v->l : PRINT_STR_MAX;
	int err = buf_write(mb, "\"", 1);

	for (size_t i = 0; !err && i < n; i++) {
		unsigned char c = (unsigned char)v->p[i];

		if (c == '"' || c == '\\')
			err = buf_printf(mb, "\\%c", c);
		else if (c == '\n')
			err = buf_write(mb, "\\n", 2);
		else if (c == '\r')
			err = buf_write(mb, "\\r", 2);
		else if (c == '\t')
			err = buf_write(mb, "\\t", 2);
		else if (c < 0x20 || c == 0x7f)
			err = buf_printf(mb, "\\x%02x", c);
		else
			err = buf_write(mb, &c, 1);
	}
	if (!err)
		err = buf_write(mb, "\"", 1);
	if (!err && n < v->l)
		err = buf_printf(mb, "...(%zu bytes)", v->l);
	return err;
}


static int print_hex(struct buf *mb, const struct pl *v)
{
	size_t n = v->l < PRINT_HEX_MAX ? v->l : PRINT_HEX_MAX;
	int err = buf_write(mb, "0x", 2);

	for (size_t i = 0; !err && i < n; i++)
		err = buf_printf(mb, "%02x", (unsigned char)v->p[i]);
	if (!err && n < v->l)
		err = buf_printf(mb, "...(%zu bytes)", v->l);
	return err;
}


/* Text is shown as text, anything else as hex. */
static int print_octets(struct buf *mb, const struct pl *v)
{
	for (size_t i = 0; i < v->l; i++) {
		unsigned char c = (unsigned char)v->p[i];

		if ((c < 0x20 && c != '\t' && c != '\r' && c != '\n') ||
		    c == 0x7f)
			return print_hex(mb, v);
	}
	if (!utf8_ok(v))
		return print_hex(mb, v);
	return print_str(mb, v);
}


/* Unsigned32, with the name of a Result-Code or Experimental-Result-Code */
static int print_u32(struct buf *mb, const struct dia_avp *avp, uint32_t u32)
{
	const char *name = NULL;
	uint32_t vid = 0;

	if (avp->code == DIA_AVP_RESULT_CODE && !avp->vendor)
		name = dia_dict_rcode_name(u32, 0);
	else if (avp->code == DIA_AVP_EXPERIMENTAL_RESULT_CODE &&
		 !avp->vendor && avp->parent &&
		 !dia_get_u32(avp->parent, DIA_AVP_VENDOR_ID, 0, &vid))
		name = dia_dict_rcode_name(u32, vid);
	return name ? buf_printf(mb, "%u (%s)", u32, name)
		    : buf_printf(mb, "%u", u32);
}


static int print_time(struct buf *mb, const struct dia_avp *avp)
{
	uint64_t secs;
	struct tm tm;
	time_t t;

	if (dia_avp_time(avp, &secs))
		return EBADMSG;
	t = (time_t)secs;
	if (!gmtime_r(&t, &tm))
		return EBADMSG;
	return buf_printf(mb, "%04d-%02d-%02dT%02d:%02d:%02dZ",
			  tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday,
			  tm.tm_hour, tm.tm_min, tm.tm_sec);
}


static int print_addr(struct buf *mb, const struct dia_avp *avp)
{
	char txt[INET6_ADDRSTRLEN];
	struct pl a;
	uint16_t fam;
	int err;

	if (dia_avp_addr(avp, &fam, &a))
		return EBADMSG;
	if (fam == DIA_ADDR_IPV4 || fam == DIA_ADDR_IPV6) {
		if (!inet_ntop(fam == DIA_ADDR_IPV4 ? AF_INET : AF_INET6, a.p,
			       txt, sizeof(txt)))
			return EBADMSG;
		return buf_printf(mb, "%s", txt);
	}
	err = buf_printf(mb, "family %u ", fam);
	return err ? err : print_hex(mb, &a);
}


static int print_enum(struct buf *mb, const struct dia_avp *avp)
{
	const char *name;
	int32_t i32;

	if (dia_avp_i32(avp, &i32))
		return EBADMSG;
	name = dia_dict_enum_name(avp->code, avp->vendor, i32);
	return name ? buf_printf(mb, "%d (%s)", i32, name)
		    : buf_printf(mb, "%d", i32);
}


/* The value by its type; EBADMSG when the data does not fit the type. */
static int print_typed(struct buf *mb, const struct dia_avp *avp)
{
	uint64_t u64;
	uint32_t u32;
	int32_t i32;
	int64_t i64;
	double f64;
	float f32;

	switch (avp->def->type) {

	case DIA_TYPE_U32:
		if (dia_avp_u32(avp, &u32))
			return EBADMSG;
		return print_u32(mb, avp, u32);
	case DIA_TYPE_I32:
		if (dia_avp_i32(avp, &i32))
			return EBADMSG;
		return buf_printf(mb, "%d", i32);
	case DIA_TYPE_ENUM:
		return print_enum(mb, avp);
	case DIA_TYPE_U64:
		if (dia_avp_u64(avp, &u64))
			return EBADMSG;
		return buf_printf(mb, "%llu", (unsigned long long)u64);
	case DIA_TYPE_I64:
		if (dia_avp_i64(avp, &i64))
			return EBADMSG;
		return buf_printf(mb, "%lld", (long long)i64);
	case DIA_TYPE_F32:
		if (dia_avp_f32(avp, &f32))
			return EBADMSG;
		return buf_printf(mb, "%g", (double)f32);
	case DIA_TYPE_F64:
		if (dia_avp_f64(avp, &f64))
			return EBADMSG;
		return buf_printf(mb, "%g", f64);
	case DIA_TYPE_TIME:
		return print_time(mb, avp);
	case DIA_TYPE_ADDRESS:
		return print_addr(mb, avp);
	case DIA_TYPE_UTF8:
	case DIA_TYPE_IDENTITY:
	case DIA_TYPE_URI:
		return print_str(mb, &avp->val);
	default:
		return print_octets(mb, &avp->val);
	}
}


static int print_value(struct buf *mb, const struct dia_avp *avp)
{
	size_t mark = mb->pos, mark_end = mb->end;
	int err;

	if (!avp->def)
		return print_octets(mb, &avp->val);
	err = print_typed(mb, avp);
	if (err != EBADMSG)
		return err;

	/* the data does not fit the type: say so, and show the octets */
	mb->pos = mark;
	mb->end = mark_end;
	err = buf_printf(mb, "<bad length %zu> ", avp->val.l);
	return err ? err : print_hex(mb, &avp->val);
}


static int print_avp(struct buf *mb, const struct dia_avp *avp, unsigned indent,
		     unsigned depth)
{
	const struct dia_avp *m;
	int err;

	err = buf_printf(mb, "%*s%s(%u", (int)(indent * 2), "",
			 avp->def ? avp->def->name : "AVP", avp->code);
	if (!err && avp->vendor)
		err = buf_printf(mb, ",%u", avp->vendor);
	if (!err)
		err = buf_printf(mb, ")%s%s%s%s",
				 avp->flags & (DIA_AVP_FLAG_V | DIA_AVP_FLAG_M |
					       DIA_AVP_FLAG_P)
					 ? " "
					 : "",
				 avp->flags & DIA_AVP_FLAG_V ? "V" : "",
				 avp->flags & DIA_AVP_FLAG_M ? "M" : "",
				 avp->flags & DIA_AVP_FLAG_P ? "P" : "");
	if (err)
		return err;

	if (avp->grouped) {
		err = buf_write(mb, ":\n", 2);
		for (m = dia_avp_first(avp); !err && m;
		     m = dia_avp_sibling(m)) {
			if (depth >= DIA_DEPTH_MAX + 1)
				return buf_printf(mb, "%*s...\n",
						  (int)(indent * 2 + 2), "");
			err = print_avp(mb, m, indent + 1, depth + 1);
		}
		return err;
	}

	err = buf_write(mb, " = ", 3);
	if (!err)
		err = print_value(mb, avp);
	if (!err)
		err = buf_write(mb, "\n", 1);
	return err;
}


int dia_avp_print(struct buf *mb, const struct dia_avp *avp, unsigned indent)
{
	if (!mb || !avp)
		return EINVAL;
	return print_avp(mb, avp, indent, 0);
}


/**
 * Print a message for logs and traces:
 *
 *   MAR request PXY app=16777216 (Cx/Dx) hbh=0x00000001 e2e=0x... len=..
 *     Session-Id(263) M = "scscf.example.com;1;2"
 *     SIP-Auth-Data-Item(612,10415) VM:
 *       SIP-Authentication-Scheme(608,10415) VM = "SIP Digest"
 */
int dia_msg_print(struct buf *mb, const struct dia_msg *msg)
{
	const struct dia_cmd_def *cmd;
	const struct dia_avp *avp;
	const char *app;
	bool req;
	int err;

	if (!mb || !msg)
		return EINVAL;
	req = (msg->flags & DIA_FLAG_R) != 0;
	cmd = dia_dict_cmd(msg->code, msg->app);
	app = dia_dict_app_name(msg->app);

	if (cmd)
		err = buf_printf(mb, "%s", req ? cmd->req_abbr : cmd->ans_abbr);
	else
		err = buf_printf(mb, "command %u %s", msg->code,
				 req ? "request" : "answer");
	if (!err)
		err = buf_printf(
			mb,
			"%s%s%s%s app=%u%s%s%s hbh=0x%08x e2e=0x%08x len=%zu\n",
			msg->flags & DIA_FLAG_P ? " PXY" : "",
			msg->flags & DIA_FLAG_E ? " ERR" : "",
			msg->flags & DIA_FLAG_T ? " RTR" : "",
			msg->flags & DIA_FLAG_RSV ? " RSV" : "", msg->app,
			app ? " (" : "", app ? app : "", app ? ")" : "",
			msg->hbh, msg->e2e, dia_msg_wire_len(msg));

	for (avp = dia_avp_first(&msg->root); !err && avp;
	     avp = dia_avp_sibling(avp))
		err = print_avp(mb, avp, 1, 0);
	return err;
}
