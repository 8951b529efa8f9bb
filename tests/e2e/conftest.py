from harness import broker, new_worker, tiny_models, worker_env  # noqa: F401
