"""The API emulator: the cloud's routes, envelopes, codes and stream (server), its state (store), the agent that
answers /run_sse (agent), the behaviour behind the routes (backend), render worker processes (worker) and fault
injection for tests (faults)."""
