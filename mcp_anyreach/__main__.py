from mcp_anyreach.cli import main

raise SystemExit(main())
