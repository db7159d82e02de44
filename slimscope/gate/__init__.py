"""The CI size-budget gate: configuration, rules and the reports CI systems read."""
