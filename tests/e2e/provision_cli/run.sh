#!/usr/bin/env bash
# Provisioning from the command line (entims subscriber|ifc|profile):
# iFC and profile first, then a subscriber added, listed, shown, changed,
# exported, deleted and imported back; every refusal checked for its
# exit status (1 refused, 2 bad usage) and its sentence.  The SQLite
# store is DATA/entims.db, as `entims run` will find it.
. "$(dirname "$0")/../lib.sh"
e2e_init "$@"

D=(-d "$ENTIMS_DATA")
OUT=$E2E_TMP/cli.out
ERR=$E2E_TMP/cli.err

# run <expected status> <what> -- entims arguments...
run() {
	local want=$1 what=$2 rc=0
	shift 3
	"$ENTIMS" "$@" "${D[@]}" >"$OUT" 2>"$ERR" || rc=$?
	expect_rc "$what" "$rc" "$want"
}

# says <file> <text>: the output holds the text
says() {
	grep -qF -- "$2" "$1" || { cat "$1" >&2; fail "expected in $(basename "$1"): $2"; }
}

run 0 "subscriber --help" -- subscriber --help
says "$OUT" "import FILE|-"
run 0 "ifc --help" -- ifc --help
run 2 "subscriber without an action" -- subscriber
run 2 "unknown action" -- subscriber frobnicate
says "$ERR" "unknown action 'frobnicate'"
run 2 "unknown option" -- subscriber add x --colour blue

run 0 "ifc add from options" -- ifc add vm --priority 10 \
	--as sip:vm.acme.example --method INVITE \
	--session-case terminating_unregistered --profile gold
run 0 "ifc list" -- ifc list
says "$OUT" "vm  priority 10  sip:vm.acme.example"
run 0 "ifc show" -- ifc show vm
says "$OUT" '"session_case": "terminating_unregistered"'
run 1 "ifc add duplicate" -- ifc add vm --priority 1 --as sip:x.acme.example
says "$ERR" "iFC 'vm' already exists"
run 1 "ifc add with a bad regex" -- ifc add bad --priority 1 \
	--as sip:x.acme.example --ruri 'sip:('
says "$ERR" "is not a valid regular expression"
run 0 "profile list" -- profile list
says "$OUT" "gold  ifc: vm"

run 0 "subscriber add" -- subscriber add alice --impi alice@acme.example \
	--password s3cret --impu sip:alice@acme.example \
	--impu tel:+15145550100 --profile gold \
	--k 465b5ce8b199b49faa5f0a2ee238a6bc \
	--op cdc202d5123e20f62b6d676ac72cb318
run 0 "subscriber list" -- subscriber list
says "$OUT" "alice  impi: alice@acme.example  impu: sip:alice@acme.example,tel:+15145550100"
run 0 "subscriber show by IMPU" -- subscriber show tel:+15145550100
says "$OUT" '"opc": "cd63cb71954a9f4e48a5994e37a02baf"'
grep -q s3cret "$OUT" && fail "the password is shown"
# HA1 = MD5(IMPI:realm:password), RFC 7616 3.4.2
ha1=$(printf '%s' 'alice@acme.example:acme.example:s3cret' | md5sum | cut -d' ' -f1)
says "$OUT" "\"md5\": \"$ha1\""

# refusals, each with its sentence
run 1 "malformed URI" -- subscriber add bob --impi bob@acme.example \
	--password x --impu 'sip:bob@'
says "$ERR" "public identity 'sip:bob@' is not a valid SIP URI: the host is missing; write it as sip:user@domain"
run 1 "duplicate identity" -- subscriber add bob --impi alice@acme.example \
	--password x
says "$ERR" "private identity 'alice@acme.example' already exists (in subscription 'alice')"
run 1 "digest without password" -- subscriber add bob \
	--impi bob@acme.example --scheme digest-md5
says "$ERR" "allows digest-md5 but has no password"
run 1 "AKA without K" -- subscriber add bob --impi bob@acme.example \
	--scheme aka-v1-md5
says "$ERR" "allows aka-v1-md5 but has no K"
run 1 "unknown service profile" -- subscriber add bob \
	--impi bob@acme.example --password x --impu sip:bob@acme.example \
	--profile platinum
says "$ERR" "refers to service profile 'platinum', which does not exist"
run 1 "bad scheme name" -- subscriber add bob --impi bob@acme.example \
	--password x --scheme md4
says "$ERR" "authentication scheme 'md4' of 'bob@acme.example' is unknown"
run 1 "show unknown" -- subscriber show sip:nobody@acme.example
says "$ERR" "no subscription, private identity or public identity 'sip:nobody@acme.example'"
run 2 "set without changes" -- subscriber set alice
run 1 "profile delete in use" -- profile delete gold
says "$ERR" "is used by public identities"

run 0 "subscriber set" -- subscriber set alice \
	--impu tel:+15145550100 --barred yes --display-name "Alice L."
run 0 "subscriber show after set" -- subscriber show alice
says "$OUT" '"barred": true'
says "$OUT" '"display_name": "Alice L."'

run 0 "subscriber export" -- subscriber export alice
cp "$OUT" "$E2E_TMP/alice.json"
run 0 "export all" -- subscriber export
cp "$OUT" "$E2E_TMP/all.json"
run 0 "subscriber delete" -- subscriber delete alice@acme.example
run 1 "delete again" -- subscriber delete alice
run 0 "list is empty" -- subscriber list
[ -s "$OUT" ] && fail "subscriptions left after delete"

"$ENTIMS" subscriber import - "${D[@]}" <"$E2E_TMP/alice.json" >"$OUT" 2>"$ERR" ||
	fail "import from stdin failed: $(cat "$ERR")"
says "$OUT" "imported 1 subscription(s)"
run 0 "export after import" -- subscriber export
cmp -s "$OUT" "$E2E_TMP/all.json" ||
	fail "export after delete and import differs: $(diff "$E2E_TMP/all.json" "$OUT")"
log "ok: export -> delete -> import -> export is identical"
run 1 "import twice" -- subscriber import "$E2E_TMP/alice.json"
says "$ERR" "subscription 'alice' already exists"
printf '{"name": ' >"$E2E_TMP/broken.json"
run 1 "import broken JSON" -- subscriber import "$E2E_TMP/broken.json"
says "$ERR" "is not valid JSON: line"

# the store location comes from the configuration file
cat >"$E2E_TMP/entims.conf" <<CONF
[core]
data_dir = $E2E_TMP/other
[store]
url = sqlite
CONF
"$ENTIMS" subscriber list -c "$E2E_TMP/entims.conf" >"$OUT" 2>"$ERR" ||
	fail "list with a config file failed: $(cat "$ERR")"
[ -f "$E2E_TMP/other/entims.db" ] || fail "[core] data_dir not used for the store"
log "ok: [core] data_dir and [store] url are read"
pass
