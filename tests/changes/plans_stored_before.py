"""Plans and a move intent as the stores (SQLite, Redis) kept them before each change became a typed unit
(`actions/`): the exact JSON written by `Plan.model_dump_json()` at commit 3749591, captured by planning three
documents against the seeded sandbox. Ids are placeholders (`{byoc_trunk}`, `{agent:Sales}`...) filled in from the
sandbox a test runs on; a basis digest reads `digest`, since these plans are applied without a freshness check.

A plan stored then must load, show, fingerprint and run exactly as it did: a confirmation token in flight was
signed over its fingerprint, and a replica may still hold it.
"""

# Creates and updates trunks, moves a number, registers one, changes sharing and agents, creates routing, deletes
# purchased numbers.
PLAN_A = (
    '{"id":"{plan_id}","steps":[{"n":1,"action":"create_trunk","subject":"Carrier B","detail":'
    "\"create BYOC trunk 'Carrier B' (inbound: allowed_addresses ['203.0.113.77/32'], auth_username carrier-b, pa"
    'ssword from $ANYREACH_SIP_CARRIER_B)","args":{"name":"Carrier B","inbound_config":{"allowed_addres'
    'ses":["203.0.113.77/32"],"auth_username":"carrier-b","auth_password":{"env":"ANYREACH_SIP_CARRIE'
    'R_B"}}},"targets":[]},{"n":2,"action":"update_trunk","subject":"Demo Telephony Co PBX (BYOC)",'
    '"detail":"update BYOC trunk \'Demo Telephony Co PBX (BYOC)\': outbound: transport TLS -> TCP, password sent'
    ' again, from $ANYREACH_SIP_PBX_OUT; inbound: password sent again, from $ANYREACH_SIP_PBX_IN","args":{"tr'
    'unk_id":"{byoc_trunk}","outbound_config":{"address":"pbx.demo-telephony.example.com:5061","auth_us'
    'ername":"demo-telephony-co-out","transport":"TCP","media_encryption":"REQUIRE","headers":{"X-C'
    'ustomer-Id":"demo-telephony-co"},"auth_password":{"env":"ANYREACH_SIP_PBX_OUT"}},"inbound_config"'
    ':{"enable_noise_cancellation":true,"media_encryption":"ALLOW","allowed_addresses":["203.0.113.10/32'
    '","198.51.100.0/24"],"allowed_numbers":[],"auth_username":"demo-telephony-co-in","auth_password":'
    '{"env":"ANYREACH_SIP_PBX_IN"}}},"targets":["anyreach://trunks/{byoc_trunk}"]},{"n":3,"action":"'
    'delete_number","subject":"+12125550131","detail":"delete +12125550131 from trunk \'Demo Telephony Co '
    'PBX (BYOC)\' (to move it)","args":{"phone_number":"+12125550131"},"targets":["anyreach://phone-numb'
    'ers/+12125550131"]},{"n":4,"action":"register_number","subject":"+12125550131","detail":"regis'
    'ter +12125550131 on trunk \'Carrier B\' (created by this plan), outbound shareable","args":{"phone_number'
    '":"+12125550131","outbound_shareable":true,"trunk_name":"Carrier B"},"targets":["anyreach://phon'
    'e-numbers/+12125550131"]},{"n":5,"action":"publish","subject":"+12125550131","detail":"\'Sales\''
    ' v2 answers +12125550131","args":{"agent_id":"{agent:Sales}","version":2,"phone_numbers":["+1212'
    '5550131"],"direction":"inbound"},"targets":["anyreach://phone-numbers/+12125550131"]},{"n":6,"ac'
    'tion":"register_number","subject":"+13125550199","detail":"register +13125550199 on trunk \'Demo Te'
    'lephony Co PBX (BYOC)\'","args":{"phone_number":"+13125550199","outbound_shareable":false,"trunk_id'
    '":"{byoc_trunk}"},"targets":["anyreach://phone-numbers/+13125550199"]},{"n":7,"action":"set_shar'
    'eable","subject":"+12125550132","detail":"allow outbound sharing of +12125550132","args":{"phone'
    '_number":"+12125550132","outbound_shareable":true},"targets":["anyreach://phone-numbers/+12125550132'
    '"]},{"n":8,"action":"publish","subject":"2 numbers","detail":"\'Support\' v2 on the inbound slot'
    ' of +12125550132, +13125550143","args":{"agent_id":"{agent:Support}","version":2,"direction":"in'
    'bound","phone_numbers":["+12125550132","+13125550143"]},"targets":["anyreach://phone-numbers/+1212'
    '5550132","anyreach://phone-numbers/+13125550143"]},{"n":9,"action":"unassign","subject":"+121255'
    '50132","detail":"take \'After-hours\' v1 off the outbound slot of +12125550132","args":{"agent_id":"'
    '{agent:After-hours}","version":1,"direction":"outbound","unassign_phone_numbers":["+12125550132"]'
    '},"targets":["anyreach://phone-numbers/+12125550132"]},{"n":10,"action":"create_routing","subject'
    '":"routing","detail":"create inbound routing: every inbound call runs workflow wf_router (latest versi'
    "on) to choose the agent; if it fails, agent {agent:Support} answers; workflow wf_router could not be verifie"
    'd (no Anyreach API lists workflows)","args":{"enabled":true,"workflow_id":"wf_router","fallback_ag'
    'ent_id":"{agent:Support}"},"targets":["anyreach://inbound-routing-config"]},{"n":11,"action":"de'
    'lete_number","subject":"+14155550101","detail":"delete +14155550101 (bought through Anyreach: releas'
    'ed)","args":{"phone_number":"+14155550101"},"targets":["anyreach://phone-numbers/+14155550101"]},'
    '{"n":12,"action":"delete_number","subject":"+14155550102","detail":"delete +14155550102 (bought'
    ' through Anyreach: released)","args":{"phone_number":"+14155550102"},"targets":["anyreach://phone-'
    'numbers/+14155550102"]}],"impact":["Trunk \'Demo Telephony Co PBX (BYOC)\' changes; the calls of its 3 num'
    'bers follow at once.","1 number ends up with nobody answering (or are deleted while answered): +1415555010'
    '1.","1 number gets another inbound agent: +12125550132.","1 number moves (steps 3-5): each is out of the'
    " directory from its delete until it is registered again, a moment per number; calls to it fail meanwhile. Sh"
    'aring and both agent slots are kept.","2 purchased numbers are released (+14155550101, +14155550102); thei'
    'r managed trunks stay (the API cannot delete them)."],"notes":[],"basis":{"anyreach://inbound-routing-'
    'config":null,"anyreach://phone-numbers/+12125550131":"digest","anyreach://phone-numbers/+12125550132"'
    ':"digest","anyreach://phone-numbers/+13125550143":"digest","anyreach://phone-numbers/+13125550199":n'
    'ull,"anyreach://phone-numbers/+14155550101":"digest","anyreach://phone-numbers/+14155550102":"digest'
    '","anyreach://trunks/{byoc_trunk}":"digest"},"moves":{}}'
)

# What a person approved for it: summary, impact, every step.
PREVIEW_A = (
    "12 steps: create 1 trunk, update 1 trunk, move 1 number, register 1 number, change outbound sharing of 1 num"
    "ber, publish 1 agent assignment, clear 1 agent assignment, create 1 routing config, delete 2 numbers.\nTrunk"
    " 'Demo Telephony Co PBX (BYOC)' changes; the calls of its 3 numbers follow at once.\n1 number ends up with n"
    "obody answering (or are deleted while answered): +14155550101.\n1 number gets another inbound agent: +121255"
    "50132.\n1 number moves (steps 3-5): each is out of the directory from its delete until it is registered agai"
    "n, a moment per number; calls to it fail meanwhile. Sharing and both agent slots are kept.\n2 purchased numb"
    "ers are released (+14155550101, +14155550102); their managed trunks stay (the API cannot delete them).\n1. c"
    "reate BYOC trunk 'Carrier B' (inbound: allowed_addresses ['203.0.113.77/32'], auth_username carrier-b, passw"
    "ord from $ANYREACH_SIP_CARRIER_B)\n2. update BYOC trunk 'Demo Telephony Co PBX (BYOC)': outbound: transport "
    "TLS -> TCP, password sent again, from $ANYREACH_SIP_PBX_OUT; inbound: password sent again, from $ANYREACH_SI"
    "P_PBX_IN\n3-5. move +12125550131: delete +12125550131 from trunk 'Demo Telephony Co PBX (BYOC)' (to move it)"
    "; register +12125550131 on trunk 'Carrier B' (created by this plan), outbound shareable; 'Sales' v2 answers "
    "+12125550131\n6. register +13125550199 on trunk 'Demo Telephony Co PBX (BYOC)'\n7. allow outbound sharing of"
    " +12125550132\n8. 'Support' v2 on the inbound slot of +12125550132, +13125550143\n9. take 'After-hours' v1 o"
    "ff the outbound slot of +12125550132\n10. create inbound routing: every inbound call runs workflow wf_router"
    " (latest version) to choose the agent; if it fails, agent {agent:Support} answers; workflow wf_router could "
    "not be verified (no Anyreach API lists workflows)\n11. delete +14155550101 (bought through Anyreach: release"
    "d)\n12. delete +14155550102 (bought through Anyreach: released)"
)

# After A: moves the number back, updates routing, deletes the trunk A created.
PLAN_B = (
    '{"id":"{plan_id}","steps":[{"n":1,"action":"delete_number","subject":"+12125550131","detail'
    '":"delete +12125550131 from trunk \'Carrier B\' (to move it)","args":{"phone_number":"+12125550131"},'
    '"targets":["anyreach://phone-numbers/+12125550131"]},{"n":2,"action":"register_number","subject"'
    ':"+12125550131","detail":"register +12125550131 on trunk \'Demo Telephony Co PBX (BYOC)\', outbound share'
    'able","args":{"phone_number":"+12125550131","outbound_shareable":true,"trunk_id":"{byoc_trunk}"'
    '},"targets":["anyreach://phone-numbers/+12125550131"]},{"n":3,"action":"publish","subject":"+12'
    '125550131","detail":"\'Sales\' v2 answers +12125550131","args":{"agent_id":"{agent:Sales}","versio'
    'n":2,"phone_numbers":["+12125550131"],"direction":"inbound"},"targets":["anyreach://phone-number'
    's/+12125550131"]},{"n":4,"action":"update_routing","subject":"routing","detail":"change inboun'
    "d routing; after: every inbound call runs workflow wf_router (latest version) to choose the agent; if it fai"
    "ls, agent {agent:After-hours} answers; workflow wf_router could not be verified (no Anyreach API lists workf"
    'lows)","args":{"fallback_agent_id":"{agent:After-hours}"},"targets":["anyreach://inbound-routing-c'
    'onfig"]},{"n":5,"action":"delete_trunk","subject":"Carrier B","detail":"delete BYOC trunk \'Car'
    'rier B\' ({carrier_b})","args":{"trunk_id":"{carrier_b}"},"targets":["anyreach://trunks/{carrier_b}'
    '"]}],"impact":["1 number moves (steps 1-3): each is out of the directory from its delete until it is reg'
    'istered again, a moment per number; calls to it fail meanwhile. Sharing and both agent slots are kept."],"'
    'notes":[],"basis":{"anyreach://inbound-routing-config":"digest","anyreach://phone-numbers/+121255501'
    '31":"digest","anyreach://trunks/{carrier_b}":"digest","anyreach://trunks/{byoc_trunk}":"digest"},'
    '"moves":{"+12125550131":{"phone_number":"+12125550131","from_trunk_id":"{carrier_b}","trunk_id'
    '":"{byoc_trunk}","outbound_shareable":true,"inbound":{"agent_id":"{agent:Sales}","version":2,"'
    'version_id":"{version:Sales:2}","label":"\'Sales\' v2"},"outbound":null}}}'
)

PREVIEW_B = (
    "5 steps: move 1 number, update 1 routing config, delete 1 trunk.\n1 number moves (steps 1-3): each is out of"
    " the directory from its delete until it is registered again, a moment per number; calls to it fail meanwhile"
    ". Sharing and both agent slots are kept.\n1-3. move +12125550131: delete +12125550131 from trunk 'Carrier B'"
    " (to move it); register +12125550131 on trunk 'Demo Telephony Co PBX (BYOC)', outbound shareable; 'Sales' v2"
    " answers +12125550131\n4. change inbound routing; after: every inbound call runs workflow wf_router (latest "
    "version) to choose the agent; if it fails, agent {agent:After-hours} answers; workflow wf_router could not b"
    "e verified (no Anyreach API lists workflows)\n5. delete BYOC trunk 'Carrier B' ({carrier_b})"
)

# After B: deletes the routing config.
PLAN_C = (
    '{"id":"{plan_id}","steps":[{"n":1,"action":"delete_routing","subject":"routing","detail":'
    '"delete inbound routing (now: every inbound call runs workflow wf_router (latest version) to choose the age'
    "nt; if it fails, agent {agent:After-hours} answers; workflow wf_router could not be verified (no Anyreach AP"
    'I lists workflows))","args":{},"targets":["anyreach://inbound-routing-config"]}],"impact":["1 numb'
    'er ends up with nobody answering (or are deleted while answered): +13125550199."],"notes":[],"basis":{'
    '"anyreach://inbound-routing-config":"digest"},"moves":{}}'
)

PREVIEW_C = (
    "1 step: delete 1 routing config.\n1 number ends up with nobody answering (or are deleted while answered): +1"
    "3125550199.\n1. delete inbound routing (now: every inbound call runs workflow wf_router (latest version) to "
    "choose the agent; if it fails, agent {agent:After-hours} answers; workflow wf_router could not be verified ("
    "no Anyreach API lists workflows))"
)

# The unfinished move PLAN_B records before its first step.
MOVE_INTENT = (
    '{"phone_number":"+12125550131","from_trunk_id":"{carrier_b}","trunk_id":"{byoc_trunk}","outboun'
    'd_shareable":true,"inbound":{"agent_id":"{agent:Sales}","version":2,"version_id":"{version:Sales'
    ':2}","label":"\'Sales\' v2"},"outbound":null}'
)
