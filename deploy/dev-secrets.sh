#!/bin/sh
# Throw-away secrets for running deploy/compose.yml on a development machine:
# writes keys into deploy/.secrets/ and variables into deploy/.env (both
# git-ignored; compose reads deploy/.env on its own). Never for production.
# Needs openssl. Existing files are kept, so re-running is harmless.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
secrets="$here/.secrets"
mkdir -p "$secrets/jwt"
if [ ! -f "$secrets/jwt-private.pem" ]; then
  openssl genpkey -algorithm ed25519 -out "$secrets/jwt-private.pem"
  openssl pkey -in "$secrets/jwt-private.pem" -pubout -out "$secrets/jwt/current.pem"
fi
[ -f "$secrets/code_hmac_secret" ] || openssl rand -hex 32 | tr -d '\n' > "$secrets/code_hmac_secret"
# Readable by the containers' user (uid 10001) on a development machine only.
chmod 0644 "$secrets/jwt-private.pem" "$secrets/code_hmac_secret" "$secrets/jwt/current.pem"
if [ ! -f "$here/.env" ]; then
  cat > "$here/.env" <<ENV
POSTGRES_PASSWORD=$(openssl rand -hex 16)
RABBITMQ_PASSWORD=$(openssl rand -hex 16)
REDIS_PASSWORD=$(openssl rand -hex 16)
JWT_PRIVATE_KEY_FILE=$secrets/jwt-private.pem
JWT_PUBLIC_KEYS_DIR=$secrets/jwt
CODE_HMAC_SECRET_FILE=$secrets/code_hmac_secret
SMSRU_API_ID_FILE=/dev/null
# Pushes are printed in development (PUSH_PROVIDERS in compose.override.example.yml).
FCM_CREDENTIALS_FILE=/dev/null
RUSTORE_SERVICE_TOKEN_FILE=/dev/null
RUSTORE_PROJECT_ID=development
# Any web origin; honoured only by a development gateway (compose.override.example.yml).
CORS_ALLOWED_ORIGINS=*
ENV
fi
echo "deploy/.env and deploy/.secrets/ ready"
