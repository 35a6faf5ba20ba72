-- Run by the postgres image on its first start only (empty data volume):
-- one database per service, owned by the application user (POSTGRES_USER).
-- Migrations (the compose `migrate` service) then create the tables.
CREATE DATABASE auth;
CREATE DATABASE listings;
CREATE DATABASE requests;
CREATE DATABASE chat;
CREATE DATABASE notifications;
