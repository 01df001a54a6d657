"""`mcp-anyreach doctor`: is everything a server needs for a real Anyreach account in place?

Checks run in order, each with the fix for its failure; a check that needs an earlier one which failed is
skipped. The exit code is 0 only when nothing failed: everything a read-write server needs, or with
`--read-only` what a read-only server needs. Doctor never changes anything: its reads are cheap GETs made
through a read-only client, and for a read-write server it sends an empty POST to the two endpoints where an
empty body cannot create anything. Every other write scope is reported as unverified.

Where ANYREACH_ORG_ID names several organizations, the token, the network and the files are checked once and
everything the API answers once per organization, in a section of its own that sends that organization's
X-Anyreach-Org.

Where each check lives, by the name the report gives it:
- once, whatever the number of organizations: `token_format` ("token format"), `network` ("base URL", "DNS",
  "TCP", "TLS"), `files` ("audit log", "token store");
- per organization: `organization` ("credential", or not a member, then the others in order), `scopes`
  ("scope ..." for reads and writes, "other write scopes"), `managed_account` ("managed account",
  "scope managed_accounts:read");
- around them: `diagnosis` (the order, "write scopes" skipped with --read-only, and the command's printing
  and exit code), `report` (the checks and sections a report holds), `output` (the table and --json).

Nothing is imported here: the server's start-up check of the network (`network.reachability_problem`) loads only
what it needs, not the whole of doctor, while a host waits for the server.
"""
