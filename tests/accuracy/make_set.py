#!/usr/bin/env python3
"""Generates keysweep's own labelled accuracy set (tests/accuracy/labelled.tsv).

Each positive is a line in a common syntax holding a FAKE credential with the
shape its provider documents (prefix, alphabet, length, checksum where one is
documented); each negative is a line a reviewer would not want flagged
(placeholders, references, hashes, identifiers, public keys). Shapes come
from the providers' documentation, written independently of the rule files.
Values are random, with a fixed seed so the file is stable.

    python3 tests/accuracy/make_set.py > tests/accuracy/labelled.tsv
"""
from __future__ import annotations

import base64
import random
import string
import sys
import zlib

R = random.Random(20261203)
B62 = string.digits + string.ascii_uppercase + string.ascii_lowercase
HEX = "0123456789abcdef"
UP = string.ascii_uppercase + string.digits
B64 = string.ascii_letters + string.digits + "+/"
B64U = string.ascii_letters + string.digits + "-_"


def rnd(n: int, alpha: str = B62) -> str:
    return "".join(R.choice(alpha) for _ in range(n))


def b62(n: int) -> str:
    s = ""
    while n:
        n, r = divmod(n, 62)
        s = B62[r] + s
    return s


def crc_token(prefix: str, body_len: int = 30) -> str:
    body = rnd(body_len)
    return prefix + body + b62(zlib.crc32(body.encode())).rjust(6, "0")


def uuid() -> str:
    h = rnd(32, HEX)
    return f"{h[:8]}-{h[8:12]}-4{h[13:16]}-a{h[17:20]}-{h[20:]}"


def pem(kind: str) -> str:
    body = "\\n".join(rnd(64, B64) for _ in range(6))
    return f"-----BEGIN {kind}-----\\n{body}\\n{rnd(20, B64)}==\\n-----END {kind}-----"


# (category, line) positives. Categories: provider/syntax.
def positives() -> list[tuple[str, str]]:
    aws_id = lambda: "AKIA" + rnd(16, string.ascii_uppercase + "234567")
    aws_sk = lambda: rnd(40, B64)
    p = [
        ("aws/env", f"AWS_ACCESS_KEY_ID={aws_id()}"),
        ("aws/ini", f"aws_secret_access_key = {aws_sk()}"),
        ("aws/py", f'client = boto3.client("s3", aws_access_key_id="{aws_id()}", aws_secret_access_key="{aws_sk()}")'),
        ("github/env", f"GITHUB_TOKEN={crc_token('ghp_')}"),
        ("github/yaml", f"  token: {crc_token('gho_')}"),
        ("github/sh", f"git clone https://x-access-token:{crc_token('ghs_')}@github.com/org/repo.git"),
        ("github/json", f'"github_pat": "github_pat_{rnd(22)}_{rnd(59)}"'),
        ("gitlab/env", f"GITLAB_TOKEN=glpat-{rnd(20, B64U)}"),
        ("slack/env", f"SLACK_BOT_TOKEN=xoxb-{rnd(12, string.digits)}-{rnd(13, string.digits)}-{rnd(24)}"),
        ("slack/json", f'"webhook": "https://hooks.slack.com/services/T{rnd(10, UP)}/B{rnd(10, UP)}/{rnd(24)}"'),
        ("stripe/env", f"STRIPE_SECRET_KEY=sk_live_{rnd(99)}"),
        ("stripe/py", f'stripe.api_key = "rk_live_{rnd(24)}"'),
        ("openai/env", f"OPENAI_API_KEY=sk-proj-{rnd(156, B64U)}"),
        ("anthropic/env", f"ANTHROPIC_API_KEY=sk-ant-api03-{rnd(93, B64U)}AA"),
        ("google/js", f'const firebaseConfig = {{ apiKey: "AIza{rnd(35, B64U)}" }};'),
        ("google/json", '{"type": "service_account", "project_id": "demo-123", "private_key_id": "' + rnd(40, HEX) + '", "private_key": "' + pem("PRIVATE KEY") + '\\n", "client_email": "svc@demo-123.iam.gserviceaccount.com"}'),
        ("npm/ini", f"//registry.npmjs.org/:_authToken={crc_token('npm_')}"),
        ("sendgrid/env", f"SENDGRID_API_KEY=SG.{rnd(22, B64U)}.{rnd(43, B64U)}"),
        ("twilio/env", f"TWILIO_API_KEY=SK{rnd(32, HEX)}"),
        ("mailgun/env", f"MAILGUN_API_KEY=key-{rnd(32, HEX)}"),
        ("huggingface/env", f"HF_TOKEN=hf_{rnd(34, string.ascii_letters)}"),
        ("digitalocean/env", f"DIGITALOCEAN_TOKEN=dop_v1_{rnd(64, HEX)}"),
        ("docker/env", f"DOCKERHUB_TOKEN=dckr_pat_{rnd(27, B64U)}"),
        ("pypi/ini", f"password = pypi-AgEIcHlwaS5vcmc{rnd(70, B64U)}"),
        ("shopify/env", f"SHOPIFY_ACCESS_TOKEN=shpat_{rnd(32, HEX)}"),
        ("databricks/env", f"DATABRICKS_TOKEN=dapi{rnd(32, HEX)}"),
        ("linear/env", f"LINEAR_API_KEY=lin_api_{rnd(40)}"),
        ("figma/env", f"FIGMA_TOKEN=figd_{rnd(40, B64U)}"),
        ("newrelic/env", f"NEW_RELIC_API_KEY=NRAK-{rnd(27, UP)}"),
        ("grafana/env", f"GRAFANA_TOKEN=glsa_{rnd(32)}_{rnd(8, HEX)}"),
        ("supabase/env", f"SUPABASE_ACCESS_TOKEN=sbp_{rnd(40, HEX)}"),
        ("age/txt", f"AGE-SECRET-KEY-1{rnd(58, 'QPZRY9X8GF2TVDW0S3JN54KHCE6MUA7L')}"),
        ("telegram/env", f"TELEGRAM_BOT_TOKEN={rnd(10, string.digits)}:AA{rnd(33, B64U)}"),
        ("discord/json", f'"url": "https://discord.com/api/webhooks/{rnd(18, string.digits)}/{rnd(68, B64U)}"'),
        ("pem/txt", pem("RSA PRIVATE KEY")),
        ("pem/txt", pem("OPENSSH PRIVATE KEY")),
        ("pem/txt", pem("EC PRIVATE KEY")),
        ("pem/json", '"key": "' + pem("PRIVATE KEY") + '"'),
        ("postgres/env", f"DATABASE_URL=postgres://app:{rnd(18)}@db.internal:5432/app"),
        ("mysql/yaml", f"  url: mysql://root:{rnd(16)}@10.1.2.3:3306/shop"),
        ("mongodb/env", f"MONGO_URI=mongodb+srv://admin:{rnd(20)}@cluster0.ab1cd.mongodb.net/prod"),
        ("redis/env", f"REDIS_URL=rediss://default:{rnd(32)}@cache.example.net:6380"),
        ("amqp/env", f"AMQP_URL=amqps://svc:{rnd(20)}@mq.example.net:5671/vhost"),
        ("jwt/sh", "curl -H 'Authorization: Bearer " + base64.urlsafe_b64encode(b'{"alg":"HS256","typ":"JWT"}').decode().rstrip("=") + "." + base64.urlsafe_b64encode(b'{"sub":"1234567890","name":"svc","iat":1700000000}').decode().rstrip("=") + "." + rnd(43, B64U) + "' https://api.example.com/v1/items"),
        # Providers recognisable only by prefix, long tail.
        ("easypost/env", f"EASYPOST_API_KEY=EZAK{rnd(54)}"),
        ("shippo/env", f"SHIPPO_API_TOKEN=shippo_live_{rnd(40, HEX)}"),
        ("posthog/env", f"POSTHOG_PERSONAL_API_KEY=phx_{rnd(47)}"),
        ("sourcegraph/env", f"SRC_ACCESS_TOKEN=sgp_{rnd(16, HEX)}_{rnd(40, HEX)}"),
        ("pinecone/env", f"PINECONE_API_KEY=pcsk_{rnd(5)}_{rnd(63)}"),
        ("planetscale/env", f"PLANETSCALE_TOKEN=pscale_tkn_{rnd(43, B64U)}"),
        ("doppler/env", f"DOPPLER_TOKEN=dp.st.prd.{rnd(43)}"),
        ("atlassian/env", f"JIRA_API_TOKEN=ATATT3xFfGF0{rnd(170, B64U)}={rnd(8, HEX).upper()}"),
        ("sentry/env", f"SENTRY_AUTH_TOKEN=sntrys_{rnd(150, B64U)}"),
        ("openrouter/env", f"OPENROUTER_API_KEY=sk-or-v1-{rnd(64, HEX)}"),
        ("groq/env", f"GROQ_API_KEY=gsk_{rnd(52)}"),
        ("xai/env", f"XAI_API_KEY=xai-{rnd(80)}"),
        ("langsmith/env", f"LANGCHAIN_API_KEY=lsv2_pt_{rnd(32, HEX)}_{rnd(10, HEX)}"),
        ("resend/env", f"RESEND_API_KEY=re_{rnd(8)}_{rnd(24)}"),
        ("brevo/env", f"BREVO_API_KEY=xkeysib-{rnd(64, HEX)}-{rnd(16)}"),
        ("neon/env", f"NEON_API_KEY=napi_{rnd(64, string.ascii_lowercase + string.digits)}"),
        ("flutterwave/env", f"FLW_SECRET_KEY=FLWSECK-{rnd(32, HEX)}-X"),
        ("razorpay/env", f"RAZORPAY_KEY_ID=rzp_live_{rnd(14)}"),
        ("typeform/env", f"TYPEFORM_TOKEN=tfp_{rnd(44, B64U)}_{rnd(14)}"),
        ("contentful/env", f"CONTENTFUL_MANAGEMENT_TOKEN=CFPAT-{rnd(43, B64U)}"),
        ("clickup/env", f"CLICKUP_TOKEN=pk_{rnd(8, string.digits)}_{rnd(32, UP)}"),
        ("pulumi/env", f"PULUMI_ACCESS_TOKEN=pul-{rnd(40, HEX)}"),
        ("terraform/env", f"TF_TOKEN_app_terraform_io={rnd(14)}.atlasv1.{rnd(67)}"),
        ("vault/env", f"VAULT_TOKEN=hvs.{rnd(24)}"),
        ("tailscale/env", f"TS_AUTHKEY=tskey-auth-{rnd(17)}-{rnd(32)}"),
        ("ngrok/yaml", f"authtoken: {rnd(27)}_{rnd(21)}"),
        ("dropbox/env", f"DROPBOX_ACCESS_TOKEN=sl.{rnd(135, B64U)}"),
        ("matrix/env", f"MATRIX_ACCESS_TOKEN=syt_{rnd(12, string.ascii_letters)}_{rnd(20, string.ascii_letters)}_{rnd(6)}"),
        ("ntfy/env", f"NTFY_TOKEN=tk_{rnd(29, string.ascii_lowercase + string.digits)}"),
        ("deno/env", f"DENO_DEPLOY_TOKEN=ddp_{rnd(36)}"),
        ("infisical/env", f"INFISICAL_TOKEN=st.{rnd(36, HEX)}.{rnd(32, HEX)}.{rnd(32, HEX)}"),
        ("fireworks/env", f"FIREWORKS_API_KEY=fw_{rnd(24)}"),
        ("cerebras/env", f"CEREBRAS_API_KEY=csk-{rnd(48, string.ascii_lowercase + string.digits)}"),
        ("nvidia/env", f"NVIDIA_API_KEY=nvapi-{rnd(64, B64U)}"),
        ("axiom/env", f"AXIOM_TOKEN=xaat-{uuid()}"),
        ("stytch/env", f"STYTCH_SECRET=secret-live-{rnd(36, B64U)}="),
        ("xendit/env", f"XENDIT_SECRET_KEY=xnd_production_{rnd(60)}"),
        ("paddle/env", f"PADDLE_API_KEY=pdl_live_apikey_{rnd(26, string.ascii_lowercase + string.digits)}_{rnd(22)}_{rnd(3)}"),
        ("dingtalk/json", f'"webhook": "https://oapi.dingtalk.com/robot/send?access_token={rnd(64, HEX)}"'),
        ("lark/json", f'"hook": "https://open.feishu.cn/open-apis/bot/v2/hook/{uuid()}"'),
        ("wecom/sh", f"curl 'https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key={uuid()}' -d @msg.json"),
        ("teams/json", f'"url": "https://contoso.webhook.office.com/webhookb2/{uuid()}@{uuid()}/IncomingWebhook/{rnd(32, HEX)}/{uuid()}"'),
        ("zapier/env", f"ZAPIER_HOOK=https://hooks.zapier.com/hooks/catch/{rnd(7, string.digits)}/{rnd(6, string.ascii_lowercase + string.digits)}/"),
        # Context-only providers: plain keys named by their provider.
        ("datadog/env", f"DATADOG_API_KEY={rnd(32, HEX)}"),
        ("snyk/env", f"SNYK_TOKEN={uuid()}"),
        ("heroku/env", f"HEROKU_API_KEY={uuid()}"),
        ("mailchimp/env", f"MAILCHIMP_API_KEY={rnd(32, HEX)}-us21"),
        ("algolia/env", f"ALGOLIA_ADMIN_KEY={rnd(32, HEX)}"),
        ("etherscan/env", f"ETHERSCAN_API_KEY={rnd(34, UP)}"),
        ("assemblyai/env", f"ASSEMBLYAI_API_KEY={rnd(32, HEX)}"),
        ("deepgram/env", f"DEEPGRAM_API_KEY={rnd(40, HEX)}"),
        ("wandb/env", f"WANDB_API_KEY={rnd(40, HEX)}"),
        ("opencage/env", f"OPENCAGE_API_KEY={rnd(32, HEX)}"),
        ("pipedrive/env", f"PIPEDRIVE_API_TOKEN={rnd(40, HEX)}"),
        ("todoist/env", f"TODOIST_API_TOKEN={rnd(40, HEX)}"),
        ("codecov/env", f"CODECOV_TOKEN={uuid()}"),
        ("rollbar/env", f"ROLLBAR_ACCESS_TOKEN={rnd(32, HEX)}"),
        ("bugsnag/env", f"BUGSNAG_API_KEY={rnd(32, HEX)}"),
        ("jumpcloud/env", f"JUMPCLOUD_API_KEY={rnd(40, HEX)}"),
        ("cloudinary/env", f"CLOUDINARY_URL=cloudinary://{rnd(15, string.digits)}:{rnd(27, B64U)}@demo-cloud"),
        ("mapbox/js", f"mapboxgl.accessToken = 'sk.eyJ1Ijoi{rnd(20)}.{rnd(22, B64U)}';"),
    ]
    # The same prefixed tokens where no variable name gives them away: passed
    # to a client, in a header, in prose. Context-only providers are left out.
    context_only = {"datadog", "snyk", "heroku", "mailchimp", "algolia", "etherscan", "assemblyai", "deepgram",
                    "wandb", "opencage", "pipedrive", "todoist", "codecov", "rollbar", "bugsnag", "jumpcloud"}
    bare = []
    for cat, line in p:
        prov, syn = cat.split("/")
        if syn == "env" and prov not in context_only and "=" in line and "://" not in line:
            value = line.split("=", 1)[1]
            style = len(bare) % 3
            if style == 0:
                bare.append((f"{prov}/py", f'client = Client("{value}", timeout=30)'))
            elif style == 1:
                bare.append((f"{prov}/js", f"fetch(url, {{ headers: {{ Authorization: 'Bearer {value}' }} }});"))
            else:
                bare.append((f"{prov}/txt", f"temporary credential for the demo: {value} (rotate after use)"))
    p += bare
    # Generic assignments in many syntaxes.
    pw = lambda: rnd(6, string.ascii_letters) + R.choice("!@#%^&*") + rnd(7) + R.choice("!@#%^&*") + rnd(3)
    tok = lambda: rnd(32)
    p += [
        ("generic/env", f"DB_PASSWORD={pw()}"),
        ("generic/env", f'DB_PASSWORD="{pw()}"'),
        ("generic/sh", f"export API_TOKEN={tok()}"),
        ("generic/yaml", f"  password: {pw()}"),
        ("generic/yaml", f'  client_secret: "{tok()}"'),
        ("generic/json", f'"apiKey": "{tok()}"'),
        ("generic/json", f'"password": "{pw()}"'),
        ("generic/properties", f"spring.datasource.password={pw()}"),
        ("generic/properties", f"mail.smtp.password: {pw()}"),
        ("generic/xml", f'<add key="ApiSecret" value="{tok()}" />'),
        ("generic/xml", f"<password>{pw()}</password>"),
        ("generic/toml", f'secret_key = "{tok()}"'),
        ("generic/ini", f"password = {pw()}"),
        ("generic/py", f'SECRET_KEY = "{rnd(50, string.ascii_letters + string.digits + "!@#$%^&*(-_=+)")}"'),
        ("generic/py", f'conn = psycopg2.connect(host="db", user="app", password="{pw()}")'),
        ("generic/js", f"const apiKey = '{tok()}';"),
        ("generic/go", f'apiToken := "{tok()}"'),
        ("generic/java", f'private static final String PASSWORD = "{pw()}";'),
        ("generic/tf", f'  password = "{pw()}"'),
        ("generic/yaml", f"        - name: DB_PASSWORD\n          value: \"{pw()}\""),
        ("generic/yaml", f"      - POSTGRES_PASSWORD={pw()}"),
        ("generic/txt", f"ENV STRIPE_SECRET_KEY {tok()}"),
        ("generic/sh", f"mysql -u root -p{pw()} shop"),
        ("generic/sh", f"curl -u admin:{pw()} https://ci.example.com/api/json"),
        ("generic/sh", f"curl -H 'X-API-Key: {tok()}' https://api.example.com/v2/items"),
        ("generic/txt", f"Authorization: Basic {base64.b64encode(('deploy:' + pw()).encode()).decode()}"),
        ("generic/env", f"MY_SERVICE_TOKEN={tok()}"),
        ("generic/env", f"PAYMENTS_API_KEY={tok()}"),
        ("generic/env", f"AUTH_SECRET={tok()}"),
        ("generic/yaml", f"  access_token: {tok()}"),
    ]
    # Encoded disguises (decoding layers): the credential is only visible
    # once decoded.
    b64 = lambda t: base64.b64encode(t.encode()).decode()
    gh = lambda: crc_token("ghp_")
    hook = lambda: f"https://hooks.slack.com/services/T{rnd(10, UP)}/B{rnd(10, UP)}/{rnd(24)}"
    p += [
        ("encoded/env", f"ENV_B64={b64('AWS_ACCESS_KEY_ID=' + aws_id())}"),
        ("encoded/yaml", f"apiVersion: v1\nkind: Secret\ndata:\n  token: {b64('GITHUB_TOKEN=' + gh())}"),
        ("encoded/sh", "curl 'https://relay.example.com/?to=" + hook().replace(":", "%3A").replace("/", "%2F") + "'"),
        ("encoded/env", "GITHUB_TOKEN=" + gh().replace("_", "%5F")),
        ("encoded/json", '{"token": "' + gh().replace("_", "\\u005f") + '"}'),
        ("encoded/html", "<code>" + gh().replace("_", "&#95;") + "</code>"),
        ("encoded/txt", "blob = " + ("aws_access_key_id=" + aws_id()).encode().hex()),
        ("encoded/yaml", f"  config: {b64('url=' + hook().replace(':', '%3A').replace('/', '%2F'))}"),
    ]
    return p


def negatives() -> list[tuple[str, str]]:
    return [
        ("generic/env", "DB_PASSWORD=${DB_PASSWORD}"),
        ("generic/env", "DB_PASSWORD="),
        ("generic/env", "API_KEY=your_api_key_here"),
        ("generic/env", "SECRET_KEY=changeme"),
        ("generic/yaml", "  password: '{{ vault_db_password }}'"),
        ("generic/yaml", "  token: ${{ secrets.GITHUB_TOKEN }}"),
        ("generic/py", 'password = os.environ["DB_PASSWORD"]'),
        ("generic/py", "api_key = settings.API_KEY"),
        ("generic/py", "token = get_token(request)"),
        ("generic/js", "const apiKey = process.env.API_KEY;"),
        ("generic/js", "headers: { Authorization: `Bearer ${token}` }"),
        ("generic/go", 'token := os.Getenv("API_TOKEN")'),
        ("generic/java", 'String password = System.getenv("DB_PASSWORD");'),
        ("generic/properties", "spring.datasource.password=${DB_PASSWORD}"),
        ("generic/xml", '<add key="ApiSecret" value="" />'),
        ("generic/json", '"password": "<password>"'),
        ("generic/json", '"token": "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"'),
        ("generic/json", '"api_key": "REPLACE_ME"'),
        ("generic/json", f'"sha256": "{rnd(64, HEX)}"'),
        ("generic/json", f'"commit": "{rnd(40, HEX)}"'),
        ("generic/json", f'"requestId": "{uuid()}"'),
        ("generic/json", f'"integrity": "sha512-{rnd(86, B64)}=="'),
        ("generic/yaml", "  password_min_length: 12"),
        ("generic/py", 'PASSWORD_FIELD = "password"'),
        ("generic/py", 'token_type = "bearer"'),
        ("generic/txt", "password: ********"),
        ("generic/txt", "Enter your password to continue"),
        ("generic/txt", "See https://docs.example.com/api-keys for how to create an API key."),
        ("generic/sh", "curl -u $USER:$PASSWORD https://ci.example.com"),
        ("generic/sh", "mysql -u root -p shop"),
        ("generic/go", 'const tokenHeader = "X-Auth-Token"'),
        ("generic/java", "private String password;"),
        ("generic/tf", "  password = var.db_password"),
        ("generic/tf", '  secret_key = data.aws_secretsmanager_secret_version.db.secret_string'),
        ("stripe/js", f"const stripe = Stripe('pk_live_{rnd(99)}');"),
        ("stripe/env", "STRIPE_SECRET_KEY=sk_live_xxxxxxxxxxxxxxxxxxxxxxxx"),
        ("aws/env", "AWS_ACCESS_KEY_ID=AKIAXXXXXXXXXXXXXXXX"),
        ("aws/txt", "arn:aws:iam::123456789012:role/deploy"),
        ("github/txt", "ghp_your_token_here"),
        ("github/yaml", "  token: ghp_XXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXX"),
        ("pem/txt", "-----BEGIN PUBLIC KEY-----\\n" + rnd(64, B64) + "\\n-----END PUBLIC KEY-----"),
        ("pem/txt", "-----BEGIN CERTIFICATE-----\\n" + rnd(64, B64) + "\\n-----END CERTIFICATE-----"),
        ("pem/txt", "-----BEGIN RSA PRIVATE KEY-----\\n...\\n-----END RSA PRIVATE KEY-----"),
        ("postgres/env", "DATABASE_URL=postgres://app:${DB_PASSWORD}@db:5432/app"),
        ("postgres/env", "DATABASE_URL=postgres://user:password@localhost:5432/db"),
        ("mysql/yaml", "  url: mysql://root@localhost:3306/shop"),
        ("posthog/js", f"posthog.init('phc_{rnd(43)}', {{ api_host: 'https://us.i.posthog.com' }})"),
        ("google/txt", "AIzaSyXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXX"),
        ("slack/txt", "https://hooks.slack.com/services/T00000000/B00000000/XXXXXXXXXXXXXXXXXXXXXXXX"),
        ("uuid/js", f"const id = '{uuid()}';"),
        ("hex/py", f"EMPTY_SHA1 = '{rnd(40, HEX)}'"),
        ("hex/go", f"var checksum = \"{rnd(64, HEX)}\""),
        ("b64/json", f'"icon": "data:image/png;base64,{rnd(120, B64)}="'),
        ("version/json", '"version": "3.14.159-rc.2"'),
        ("identifier/java", "public static final String ACCESS_TOKEN_KEY = \"accessTokenKey\";"),
        ("identifier/py", "SECRET_KEY_SETTING_NAME = 'DJANGO_SECRET_KEY'"),
        ("path/yaml", "  private_key: /etc/ssl/private/server.key"),
        ("path/env", "GOOGLE_APPLICATION_CREDENTIALS=/run/secrets/gcp.json"),
        ("url/yaml", "  token_url: https://oauth2.googleapis.com/token"),
        ("template/yaml", "  api_key: <%= ENV['API_KEY'] %>"),
        ("template/py", "password = '%(db_password)s'"),
        ("docs/txt", "Set OPENAI_API_KEY=sk-... before running the examples."),
        ("hash/txt", "$2b$12$" + rnd(53, string.ascii_letters + string.digits + "./")),
        ("lockfile/json", f'"resolved": "https://registry.npmjs.org/left-pad/-/left-pad-1.3.0.tgz#{rnd(40, HEX)}"'),
        ("css/txt", f".icon-{rnd(8, string.ascii_lowercase)} {{ color: #{rnd(6, HEX)}; }}"),
    ]


def main() -> None:
    out = sys.stdout
    out.write("# label\tcategory\tline  (generated by tests/accuracy/make_set.py; fake values only)\n")
    for cat, line in positives():
        out.write(f"pos\t{cat}\t{line.replace(chr(10), chr(92) + 'n')}\n")
    for cat, line in negatives():
        out.write(f"neg\t{cat}\t{line}\n")


if __name__ == "__main__":
    main()
