-- 003: what an RTR needs, kept where it survives the subscriber rows.
--
-- A deregistration event (hss_event kind 2) used to name only an
-- identity, and the HSS built the Registration-Termination-Request
-- (TS 29.228 6.1.3, TS 29.229 6.1.9) from the stored rows when it polled.
-- Deleting a subscription right after queueing its RTR left nothing to
-- build it from, and there was no place for the Reason-Info.  Now the
-- event is a snapshot taken when it is queued: the S-CSCF's Diameter
-- host and realm, the subscription, the User-Name, the public identities
-- and the Reason-Info.  Rows written by 002 have no snapshot (dest_host
-- NULL) and are still built from the store.
ALTER TABLE hss_event ADD COLUMN reason_info TEXT;
-- the subscription, to apply the RTA (6.1.3: NOT_REGISTERED on success)
ALTER TABLE hss_event ADD COLUMN sub_name TEXT;
-- the Destination-Host/Realm: the Origin-Host/Realm of the assigning SAR
ALTER TABLE hss_event ADD COLUMN dest_host TEXT;
ALTER TABLE hss_event ADD COLUMN dest_realm TEXT;
-- User-Name: the private identity that registered
ALTER TABLE hss_event ADD COLUMN user_name TEXT;
-- the public identities the RTR ends, one per line (identities hold no
-- line breaks: SIP and tel URIs, TS 23.003 13.4); 1 in whole_impi: the
-- RTR carries no Public-Identity (all of User-Name's registrations) and
-- these are only the ones to set NOT_REGISTERED on the RTA
ALTER TABLE hss_event ADD COLUMN impus TEXT;
ALTER TABLE hss_event ADD COLUMN whole_impi INTEGER NOT NULL DEFAULT 0;

-- TS 29.228 6.1.3, 6.2.2: RTR and PPR name the private identity that
-- registered the implicit set, which is not the first linked one when
-- several private identities share a public identity.  Set for every
-- IMPU of the set by a SAR REGISTRATION or RE_REGISTRATION (its
-- User-Name), cleared when the set is deregistered; NULL: not known
-- (registered before this migration, or UNREGISTERED state).
ALTER TABLE impu ADD COLUMN reg_impi_id BIGINT
	REFERENCES impi (id) ON DELETE SET NULL;
