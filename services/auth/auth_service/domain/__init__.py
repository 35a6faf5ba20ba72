"""Auth rules, free of HTTP: phones, codes, tokens, SMS, throttling."""
