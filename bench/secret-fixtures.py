#!/usr/bin/env python3
"""Writes a fixture tree for the secret recall/precision comparison.

    bench/secret-fixtures.py DIR

`DIR/planted/KIND/...` holds one planted secret per file (random, well-formed values made
here; private keys from openssl and ssh-keygen), `DIR/negatives/...` holds near misses
that no tool should report. Prints nothing; `bench/secrets-recall.sh` runs the tools.
"""
import os
import random
import string
import subprocess
import sys

root = sys.argv[1]
rnd = random.Random(7)
ALNUM = string.ascii_letters + string.digits
B64 = ALNUM + "+/"
HEX = "0123456789abcdef"


def tok(alphabet, n):
    return "".join(rnd.choice(alphabet) for _ in range(n))


def write(rel, text):
    path = os.path.join(root, rel)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w") as f:
        f.write(text)


def run(*cmd):
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def key_file(rel, *cmd):
    path = os.path.join(root, rel)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    run(*[c.replace("OUT", path) for c in cmd])


P = "planted"
key_file(f"{P}/rsa-private-key/server.key", "openssl", "genrsa", "-traditional", "-out", "OUT", "2048")
key_file(f"{P}/ec-private-key/ec.key", "openssl", "ecparam", "-genkey", "-name", "prime256v1", "-noout", "-out", "OUT")
key_file(f"{P}/pkcs8-private-key/pkcs8.pem", "openssl", "genpkey", "-algorithm", "RSA", "-out", "OUT")
key_file(f"{P}/openssh-private-key/id_ed25519", "ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "bench", "-f", "OUT")
os.remove(os.path.join(root, f"{P}/openssh-private-key/id_ed25519.pub"))
pgp_body = "".join(tok(B64, 64) + "\n" for _ in range(20))
write(f"{P}/pgp-private-key/key.asc",
      f"-----BEGIN PGP PRIVATE KEY BLOCK-----\n\n{pgp_body}={tok(B64, 4)}\n-----END PGP PRIVATE KEY BLOCK-----\n")

akia = "AKIA" + tok("ABCDEFGHIJKLMNOPQRSTUVWXYZ234567", 16)
write(f"{P}/aws-access-key-id/config.ini", f"[default]\nregion = eu-west-1\naws_access_key_id = {akia}\n")
write(f"{P}/aws-secret-access-key/credentials",
      f"[default]\naws_secret_access_key = {tok(B64, 40)}\n")
gcp_body = "".join(tok(B64, 64) + "\\n" for _ in range(16))
write(f"{P}/gcp-service-account/sa.json",
      '{\n  "type": "service_account",\n  "project_id": "bench",\n'
      f'  "private_key_id": "{tok(HEX, 40)}",\n'
      f'  "private_key": "-----BEGIN PRIVATE KEY-----\\n{gcp_body}-----END PRIVATE KEY-----\\n",\n'
      '  "client_email": "bench@bench.iam.gserviceaccount.com"\n}\n')
write(f"{P}/azure-storage-key/app.config",
      f"DefaultEndpointsProtocol=https;AccountName=bench;AccountKey={tok(B64, 86)}==;EndpointSuffix=core.windows.net\n")
write(f"{P}/azure-sas/url.txt",
      f"https://bench.blob.core.windows.net/c?sv=2022-11-02&ss=b&srt=co&sp=rl&se=2030-01-01T00:00:00Z&spr=https&sig={tok(ALNUM, 43)}%3D\n")
write(f"{P}/github-token/.env", f"GH_TOKEN=ghp_{tok(ALNUM, 36)}\n")
write(f"{P}/github-fine-grained/.env", f"GH_PAT=github_pat_{tok(ALNUM, 22)}_{tok(ALNUM, 59)}\n")
write(f"{P}/gitlab-token/ci.sh", f"export GL=glpat-{tok(ALNUM, 20)}\n")
write(f"{P}/slack-token/bot.yml", f"slack_bot: xoxb-{tok(string.digits, 12)}-{tok(string.digits, 13)}-{tok(ALNUM, 24)}\n")
write(f"{P}/slack-webhook/hook.txt",
      f"https://hooks.slack.com/services/T{tok(string.ascii_uppercase + string.digits, 10)}/B{tok(string.ascii_uppercase + string.digits, 10)}/{tok(ALNUM, 24)}\n")
write(f"{P}/stripe-key/pay.py", f"stripe.api_key = \"sk_live_{tok(ALNUM, 24)}\"\n")
write(f"{P}/twilio-api-key/sms.py", f"TWILIO_KEY = \"SK{tok(HEX, 32)}\"\n")
write(f"{P}/sendgrid-key/mail.js", f"const key = 'SG.{tok(ALNUM, 22)}.{tok(ALNUM, 43)}';\n")
write(f"{P}/npm-token/.npmrc", f"//registry.npmjs.org/:_authToken=npm_{tok(ALNUM, 36)}\n")
write(f"{P}/pypi-token/.pypirc",
      f"[pypi]\nusername = __token__\npassword = pypi-AgEIcHlwaS5vcmc{tok(ALNUM + '-_', 70)}\n")
write(f"{P}/docker-hub-token/login.sh", f"echo dckr_pat_{tok(ALNUM, 27)} | docker login -u bench --password-stdin\n")
write(f"{P}/docker-config-auth/.docker/config.json",
      f'{{"auths": {{"registry.example.invalid": {{"auth": "{tok(B64, 28)}"}}}}}}\n')
write(f"{P}/netrc/.netrc", f"machine api.example.invalid login bench password {tok(ALNUM, 20)}\n")
write(f"{P}/git-credentials/.git-credentials", f"https://bench:{tok(ALNUM, 30)}@git.example.invalid\n")
write(f"{P}/kubeconfig-token/.kube/config",
      "apiVersion: v1\nkind: Config\nusers:\n- name: bench\n  user:\n"
      f"    token: {tok(ALNUM, 48)}\n")
write(f"{P}/kubeconfig-client-key/kubeconfig",
      "apiVersion: v1\nkind: Config\nusers:\n- name: bench\n  user:\n"
      f"    client-key-data: {tok(B64, 600)}=\n")
write(f"{P}/database-url/settings.py",
      f"DATABASE_URL = \"postgresql://app:{tok(ALNUM, 16)}@db.example.invalid:5432/app\"\n")
write(f"{P}/jwt/token.txt",
      f"Authorization: Bearer eyJ{tok(ALNUM, 30)}.eyJ{tok(ALNUM, 60)}.{tok(ALNUM + '-_', 43)}\n")
write(f"{P}/generic-password/app.properties", f"db.password={tok(ALNUM, 16)}\n")
write(f"{P}/generic-secret/config.yaml", f"client_secret: \"{tok(ALNUM, 24)}\"\n")

N = "negatives"
write(f"{N}/aws-example.ini", "aws_access_key_id = AKIAIOSFODNN7EXAMPLE\naws_secret_access_key = wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY\n")
write(f"{N}/pem-marker.py", "BEGIN = '-----BEGIN RSA PRIVATE KEY-----'\nEND = '-----END RSA PRIVATE KEY-----'\n")
write(f"{N}/placeholders.env", "PASSWORD=changeme\nAPI_KEY=<your-api-key>\nTOKEN=${CI_TOKEN}\nsecret: xxxxxxxxxxxxxxxx\n")
write(f"{N}/code.py", "token = self.tokenize(source)\npassword = getpass.getpass()\nsecret_key = settings.SECRET_KEY\n")
write(f"{N}/short-ghp.txt", f"ghp_{tok(ALNUM, 20)}\n")
write(f"{N}/db-no-password.txt", "postgres://app@db.example.invalid/app\npostgres://app:${DB_PASSWORD}@db/app\n")
write(f"{N}/public.pem", "-----BEGIN PUBLIC KEY-----\n" + "".join(tok(B64, 64) + "\n" for _ in range(6)) + "-----END PUBLIC KEY-----\n")
write(f"{N}/uuid-and-hashes.txt", f"id = {tok(HEX, 8)}-{tok(HEX, 4)}-{tok(HEX, 4)}-{tok(HEX, 4)}-{tok(HEX, 12)}\nsha256 = {tok(HEX, 64)}\n")
