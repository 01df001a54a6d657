from mcp_anyreach.cli.main import main

raise SystemExit(main())
