"""What a repository declares, read from the pushed commit's git objects and never imported nor executed: the
`[tool.prefect-push]` settings (config), its flows and their PREFECT_PUSH settings (flows, settings), the module
constants, models and imports a flow's signature names (values, models, context), the parameter schema Prefect
would make of it (schema), the flows a changed module reaches (imports), and prefect.yaml (prefectyaml; resolved
as `prefect deploy` stores it: prefectyaml_resolve). Modules here import nothing of the package above but git:
the push path (engine, plan, registrar, server) reads through them, never the other way.
"""
