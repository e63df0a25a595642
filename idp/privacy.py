"""The privacy policy a member accepts at registration. Its version is recorded with the account;
publishing a new text means a new version here (and, later, asking members to accept it)."""

from __future__ import annotations

from datetime import date

VERSION = "2026-11-01"
EFFECTIVE = date(2026, 11, 1)

TEXT_RU = """\
Политика конфиденциальности card.coop

1. Оператор персональных данных — ПК «ВОСХОД» или кооператив — оператор платёжной системы, \
в котором вы состоите.
2. Ваши персональные данные шифруются в вашем браузере ключом, производным от вашего пароля. \
Сервер id.card.coop хранит только зашифрованные данные и не знает вашего пароля.
3. В открытом виде мы храним ваш email, время регистрации и входов, IP-адреса и устройства \
сеансов — чтобы защищать ваш аккаунт и уведомлять вас о входах.
4. Кооператив получает ваши данные только с вашего согласия, зашифрованными его ключом; \
согласие можно отозвать в любой момент.
5. Вы можете удалить аккаунт; зашифрованные данные удаляются вместе с ним.
"""

TEXT_EN = """\
card.coop privacy policy

1. The personal data operator is the VOSKHOD consumer cooperative or the payment-system \
operator cooperative you are a member of.
2. Your personal data is encrypted in your browser with a key derived from your password. \
The id.card.coop server stores only ciphertext and never learns your password.
3. We keep in clear your email, the times of registration and logins, and the IP addresses and \
devices of your sessions, to protect your account and to tell you about logins.
4. A cooperative receives your data only with your consent, encrypted to its key; you can \
withdraw consent at any time.
5. You can delete your account; the encrypted data goes with it.
"""
