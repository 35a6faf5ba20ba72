"""Chat rules, independent of HTTP: chats, messages, fan-out between replicas and sockets."""
