//! Runs the compiled workflow graph; the store, draws and ledger arrive with the engine issue.
