from audit_service.cli import main

raise SystemExit(main())
