"""A revisioned key-value store with watch (memory and SQLite backends), shaped like etcd."""
