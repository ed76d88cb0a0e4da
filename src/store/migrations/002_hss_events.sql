-- 002: what the HSS application keeps beyond the subscriber model.
--
-- The outbox of HSS-initiated work (TS 29.228 6.1.3 Registration-
-- Termination, 6.2.2 Push-Profile): provisioning runs in other processes
-- (the CLI, the REST API) and cannot send Diameter itself, so it writes
-- an event here and the HSS process, which polls this table, sends the
-- RTR or PPR.  Rows are deleted once handled.
CREATE TABLE hss_event (
	id @ID@,
	-- 1 profile changed (subject: subscription name) -> PPR
	-- 2 deregister (subject: an IMPU or an IMPI) -> RTR
	kind INTEGER NOT NULL,
	subject TEXT NOT NULL,
	-- RTR: Reason-Code (TS 29.229 6.3.17)
	reason INTEGER NOT NULL DEFAULT 0,
	created BIGINT NOT NULL
);

-- TS 29.228 6.3: an S-CSCF that asks for vectors while the user is
-- registered at another one is kept as "pending" until its SAR confirms
-- the change.  The Diameter identity of the assigned S-CSCF (the
-- Origin-Host/Realm of its SAR) is where RTR and PPR go; the Server-Name
-- is a SIP URI and does not say it.
ALTER TABLE subscription ADD COLUMN scscf_pending TEXT;
ALTER TABLE subscription ADD COLUMN scscf_host TEXT;
ALTER TABLE subscription ADD COLUMN scscf_realm TEXT;
