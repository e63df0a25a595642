"""The words of every notification, Russian (default) and English.

Kept apart from the rendering logic so a translator edits one file. ``{name}`` fields are filled
from the payload by ``messages.render``; ``{details}`` is the when/where block it builds.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Final
from zoneinfo import ZoneInfo

from common.notify.port import NotificationKind as Kind


@dataclass(frozen=True)
class Text:
    subject: str
    # What happened. May use payload fields.
    intro: str
    # What to do if it was not them.
    advice: str


@dataclass(frozen=True)
class Labels:
    greeting: str
    at: str
    ip: str
    user_agent: str
    unlock: str
    # Which data a cooperative received (ACCESS_GRANTED, when the payload names them).
    fields: str
    footer: str


# The member's time zone: every time in an email is Moscow time, named as such.
TIME_ZONE: Final = ZoneInfo("Europe/Moscow")
TIME_FORMATS: Final[dict[str, str]] = {"ru": "{day} {month} {year} г., {time} (МСК)",
                                       "en": "{day} {month} {year}, {time} Moscow time"}
MONTHS: Final[dict[str, tuple[str, ...]]] = {
    "ru": ("января", "февраля", "марта", "апреля", "мая", "июня", "июля", "августа",
           "сентября", "октября", "ноября", "декабря"),
    "en": ("January", "February", "March", "April", "May", "June", "July", "August",
           "September", "October", "November", "December"),
}

# The card's top-level fields as the member's card shows them (idp/card/schema_v1.json titles;
# tests/common/notify/test_notify_texts.py keeps the two in step).
FIELD_LABELS: Final[dict[str, dict[str, str]]] = {
    "person_type": {"ru": "Тип лица", "en": "Person type"},
    "last_name": {"ru": "Фамилия", "en": "Last name"},
    "first_name": {"ru": "Имя", "en": "First name"},
    "middle_name": {"ru": "Отчество", "en": "Middle name (patronymic)"},
    "birthdate": {"ru": "Дата рождения", "en": "Date of birth"},
    "phone": {"ru": "Телефон", "en": "Phone"},
    "email": {"ru": "Электронная почта", "en": "Email"},
    "full_address": {"ru": "Адрес регистрации", "en": "Registered address"},
    "passport": {"ru": "Паспорт", "en": "Passport"},
    "country": {"ru": "Страна", "en": "Country"},
    "city": {"ru": "Город", "en": "City"},
    "details": {"ru": "Реквизиты ИП", "en": "Sole proprietor registration details"},
    "type": {"ru": "Организационно-правовая форма", "en": "Legal form"},
    "short_name": {"ru": "Краткое наименование", "en": "Short name"},
    "full_name": {"ru": "Полное наименование", "en": "Full name"},
    "represented_by": {"ru": "Представитель", "en": "Representative"},
    "fact_address": {"ru": "Фактический адрес", "en": "Actual address"},
}
# A field the list does not know is named by this, never by its id.
OTHER_FIELD: Final[dict[str, str]] = {"ru": "другое поле карты", "en": "another card field"}


def format_time(moment: datetime, locale: str) -> str:
    """A moment as the member reads it: Moscow time, in the email's language
    ("2 декабря 2026 г., 09:05 (МСК)" / "2 December 2026, 09:05 Moscow time"). A naive value
    is UTC (what the services write)."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    local = moment.astimezone(TIME_ZONE)
    language = locale if locale in TIME_FORMATS else "ru"
    return TIME_FORMATS[language].format(day=local.day, month=MONTHS[language][local.month - 1],
                                         year=local.year, time=local.strftime("%H:%M"))


def field_labels(names: str, locale: str) -> str:
    """"last_name, first_name" -> "Фамилия, Имя": the shared fields in the email's language."""
    language = locale if locale in TIME_FORMATS else "ru"
    labels = [FIELD_LABELS.get(name.strip(), OTHER_FIELD)[language]
              for name in names.split(",") if name.strip()]
    return ", ".join(dict.fromkeys(labels))


LABELS: Final[dict[str, Labels]] = {
    "ru": Labels(
        greeting="Здравствуйте!",
        at="Время",
        ip="IP-адрес",
        user_agent="Устройство",
        unlock="Вход снова станет доступен через {unlock_minutes} мин.",
        fields="Переданные данные: {fields}",
        footer="—\ncard.coop\nЭто письмо отправлено автоматически, отвечать на него не нужно.",
    ),
    "en": Labels(
        greeting="Hello,",
        at="Time",
        ip="IP address",
        user_agent="Device",
        unlock="You will be able to log in again in {unlock_minutes} minutes.",
        fields="Data shared: {fields}",
        footer="—\ncard.coop\nThis is an automated message; there is no need to reply.",
    ),
}

TEXTS: Final[dict[Kind, dict[str, Text]]] = {
    Kind.REGISTRATION_CODE: {
        "ru": Text(
            subject="Код подтверждения card.coop: {code}",
            intro="Ваш код подтверждения для регистрации в card.coop: {code}\n\n"
                  "Код действует {expires_minutes} мин. Введите его на странице регистрации.",
            advice="Никому не сообщайте этот код. Если вы не регистрировались в card.coop, "
                   "просто не обращайте внимания на это письмо: без кода учётная запись "
                   "не будет создана.",
        ),
        "en": Text(
            subject="Your card.coop verification code: {code}",
            intro="Your card.coop verification code: {code}\n\n"
                  "It is valid for {expires_minutes} minutes. Enter it on the registration page.",
            advice="Do not share this code with anyone. If you did not sign up for card.coop, "
                   "simply ignore this email: no account is created without the code.",
        ),
    },
    Kind.REGISTRATION_ATTEMPT: {
        "ru": Text(
            subject="Попытка регистрации в card.coop с вашим адресом",
            intro="Кто-то попытался зарегистрироваться в card.coop с этим адресом электронной "
                  "почты, но у вас уже есть учётная запись.",
            advice="Если это были вы, просто войдите в card.coop со своим паролем. "
                   "Если это были не вы, ничего делать не нужно: ваша учётная запись "
                   "не изменилась.",
        ),
        "en": Text(
            subject="Someone tried to sign up for card.coop with your address",
            intro="Someone tried to create a card.coop account with this email address, "
                  "but you already have an account.",
            advice="If it was you, just log in to card.coop with your password. If it was not "
                   "you, there is nothing to do: your account has not changed.",
        ),
    },
    Kind.NEW_DEVICE_LOGIN: {
        "ru": Text(
            subject="Вход в card.coop с нового устройства",
            intro="В вашу учётную запись card.coop выполнен вход с нового устройства.",
            advice="Если это были вы, ничего делать не нужно. Если это были не вы, сразу "
                   "смените пароль в card.coop и завершите незнакомые сеансы.",
        ),
        "en": Text(
            subject="New device login to card.coop",
            intro="Your card.coop account was just accessed from a new device.",
            advice="If it was you, there is nothing to do. If it was not you, change your "
                   "card.coop password right away and end the sessions you do not recognise.",
        ),
    },
    Kind.SUSPICIOUS_ACTIVITY: {
        "ru": Text(
            subject="Подозрительная активность в учётной записи card.coop",
            intro="Данные одного из ваших сеансов card.coop были использованы повторно. Так "
                  "бывает, если их скопировали на другое устройство, поэтому мы на всякий "
                  "случай завершили этот сеанс: на этом устройстве нужно будет войти заново.",
            advice="Если вы не узнаёте эту активность, смените пароль в card.coop и проверьте "
                   "список активных сеансов.",
        ),
        "en": Text(
            subject="Suspicious activity on your card.coop account",
            intro="The credentials of one of your card.coop sessions were used twice. This "
                  "happens when they have been copied to another device, so we ended that "
                  "session to be safe: you will need to log in again there.",
            advice="If you do not recognise this activity, change your card.coop password and "
                   "review your active sessions.",
        ),
    },
    Kind.ACCOUNT_LOCKED: {
        "ru": Text(
            subject="Вход в card.coop временно заблокирован",
            intro="Было слишком много неудачных попыток войти в вашу учётную запись card.coop, "
                  "поэтому вход временно заблокирован.",
            advice="Если это были вы, подождите и попробуйте снова. Если это были не вы, "
                   "ваш пароль, возможно, пытаются подобрать: когда вход станет доступен, "
                   "смените его на длинный пароль, который вы больше нигде не используете.",
        ),
        "en": Text(
            subject="card.coop login temporarily locked",
            intro="There were too many failed attempts to log in to your card.coop account, "
                  "so logging in is temporarily locked.",
            advice="If it was you, wait and try again. If it was not you, someone may be "
                   "guessing your password: once you can log in, change it to a long password "
                   "you do not use anywhere else.",
        ),
    },
    Kind.RECOVERY_CODE: {
        "ru": Text(
            subject="Код восстановления доступа card.coop: {code}",
            intro="Ваш код для восстановления доступа к card.coop: {code}\n\n"
                  "Код действует {expires_minutes} мин. Вместе с ним понадобится ключ "
                  "восстановления, который вы сохранили при его создании.",
            advice="Никому не сообщайте этот код. Если вы не восстанавливали доступ, просто "
                   "не обращайте внимания на это письмо: без ключа восстановления код "
                   "бесполезен.",
        ),
        "en": Text(
            subject="Your card.coop recovery code: {code}",
            intro="Your code to recover access to card.coop: {code}\n\n"
                  "The code is valid for {expires_minutes} minutes. You will also need the "
                  "recovery key you saved when you created it.",
            advice="Do not share this code. If you did not ask to recover access, ignore this "
                   "email: without the recovery key the code is useless.",
        ),
    },
    Kind.PASSWORD_CHANGED: {
        "ru": Text(
            subject="Пароль card.coop изменён",
            intro="Пароль вашей учётной записи card.coop был изменён.",
            advice="Если это были вы, ничего делать не нужно. Если это были не вы, немедленно "
                   "войдите в card.coop и смените пароль, а если войти не получается, "
                   "обратитесь в поддержку card.coop.",
        ),
        "en": Text(
            subject="Your card.coop password was changed",
            intro="The password of your card.coop account was changed.",
            advice="If it was you, there is nothing to do. If it was not you, log in to "
                   "card.coop and change your password now; if you cannot log in, contact "
                   "card.coop support.",
        ),
    },
    Kind.ACCESS_GRANTED: {
        "ru": Text(
            subject="Новый доступ к вашим данным в card.coop",
            intro="Вы вошли через card.coop в кооператив «{coop}» и открыли ему "
                  "доступ к своим данным.",
            advice="Если это были вы, ничего делать не нужно. Если это были не вы, отзовите "
                   "доступ в card.coop → «Доступы» и смените пароль.",
        ),
        "en": Text(
            subject="New access to your card.coop data",
            intro="You signed in to the cooperative “{coop}” through card.coop "
                  "and gave it access to your data.",
            advice="If it was you, there is nothing to do. If it was not you, revoke the access "
                   "in card.coop → Access and change your password.",
        ),
    },
    Kind.ACCESS_REVOKED: {
        "ru": Text(
            subject="Доступ кооператива к вашим данным в card.coop отозван",
            intro="Вы отозвали доступ кооператива «{coop}» к вашим данным "
                  "в card.coop.",
            advice="Кооператив больше не может получать ваши данные через card.coop. Данные, "
                   "которые он уже получил, остаются у него и обрабатываются по его "
                   "собственной политике конфиденциальности. Если вы не отзывали доступ, "
                   "смените пароль в card.coop.",
        ),
        "en": Text(
            subject="A cooperative's access to your card.coop data was revoked",
            intro="You revoked the access of the cooperative “{coop}” to your "
                  "card.coop data.",
            advice="The cooperative can no longer read your data through card.coop. Data it "
                   "has already received stays with it under its own privacy policy. If you "
                   "did not revoke the access, change your card.coop password.",
        ),
    },
    Kind.RECOVERY_KEY_CREATED: {
        "ru": Text(
            subject="Новый ключ восстановления card.coop",
            intro="Для вашей учётной записи card.coop создан новый ключ восстановления. "
                  "Прежний ключ, если он был, больше не действует.",
            advice="Если это были вы, храните новый ключ в надёжном месте. Если это были не "
                   "вы, немедленно войдите в card.coop, смените пароль и создайте новый ключ "
                   "восстановления.",
        ),
        "en": Text(
            subject="A new card.coop recovery key",
            intro="A new recovery key was created for your card.coop account. The previous "
                  "key, if there was one, no longer works.",
            advice="If it was you, keep the new key somewhere safe. If it was not you, log in "
                   "to card.coop now, change your password and create a new recovery key.",
        ),
    },
    Kind.RECOVERY_KEY_USED: {
        "ru": Text(
            subject="Ключ восстановления card.coop использован",
            intro="С помощью вашего ключа восстановления для учётной записи card.coop задан "
                  "новый пароль. Этот ключ больше не действует.",
            advice="Создайте новый ключ восстановления: card.coop → «Безопасность». Если это "
                   "были не вы, немедленно смените пароль и обратитесь в поддержку card.coop.",
        ),
        "en": Text(
            subject="Your card.coop recovery key was used",
            intro="Your recovery key was used to set a new password for your card.coop "
                  "account. That key no longer works.",
            advice="Create a new recovery key: card.coop → Security. If it was not you, change "
                   "your password now and contact card.coop support.",
        ),
    },
    Kind.ACCOUNT_DELETED: {
        "ru": Text(
            subject="Учётная запись card.coop удалена",
            intro="Ваша учётная запись card.coop удалена вместе с картой пайщика, "
                  "аккаунтами в кооперативах и всеми доступами: кооперативы больше не могут "
                  "получать ваши данные через card.coop.",
            advice="Данные, которые кооперативы уже получили, остаются у них и обрабатываются "
                   "по их собственной политике конфиденциальности. С этим адресом можно снова "
                   "зарегистрироваться. Если вы не удаляли учётную запись, обратитесь в "
                   "поддержку card.coop.",
        ),
        "en": Text(
            subject="Your card.coop account was deleted",
            intro="Your card.coop account was deleted together with your member card, your "
                  "cooperative accounts and every access you had given: cooperatives can no "
                  "longer read your data through card.coop.",
            advice="Data cooperatives have already received stays with them under their own "
                   "privacy policies. You can register again with this address. If you did not "
                   "delete the account, contact card.coop support.",
        ),
    },
    Kind.DISCLOSURE_REQUESTED: {
        "ru": Text(
            subject="Кооператив просит ваш профиль пайщика в card.coop",
            intro="Кооператив «{coop}» просит кооператив «{source}» передать ему ваш профиль "
                  "пайщика. Без вашего согласия ничего не передаётся.",
            advice="Откройте card.coop → «Доступы», чтобы разрешить или отказать. Запрос "
                   "действует 10 минут. Если вы ничего не просили, просто откажите.",
        ),
        "en": Text(
            subject="A cooperative asks for your card.coop member profile",
            intro="The cooperative “{coop}” asks the cooperative “{source}” to hand it your "
                  "member profile. Nothing is handed over without your consent.",
            advice="Open card.coop → Access to allow or refuse. The request is valid for 10 "
                   "minutes. If you asked for nothing, just refuse.",
        ),
    },
    Kind.MEETING_REMINDER: {
        "ru": Text(
            subject="card.coop: скоро общее собрание пайщиков, {coop}",
            intro="Голосование на общем собрании пайщиков кооператива «{coop}» открывается "
                  "{opens}. Вопросов в повестке: {questions}.",
            advice="Повестка и голосование — на сайте кооператива; все собрания — в разделе "
                   "«Собрания» кабинета пайщика card.coop.",
        ),
        "en": Text(
            subject="card.coop: a general meeting of members is coming, {coop}",
            intro="Voting at the general meeting of members of “{coop}” opens {opens}. "
                  "Questions on the agenda: {questions}.",
            advice="The agenda and the voting are on the cooperative's site; every meeting is "
                   "under Meetings in your card.coop dashboard.",
        ),
    },
    Kind.CONTRIBUTION_DUE: {
        "ru": Text(
            subject="card.coop: паевой взнос в кооперативе {coop}",
            intro="В кооперативе «{coop}» ещё не внесена часть минимального паевого взноса: "
                  "{amount}.",
            advice="Внести взнос можно в разделе «Взносы» кабинета пайщика card.coop.",
        ),
        "en": Text(
            subject="card.coop: share contribution to {coop}",
            intro="Part of the minimum share contribution to “{coop}” is still due: {amount}.",
            advice="You can pay it under Contributions in your card.coop dashboard.",
        ),
    },
    Kind.DEPOSIT_ARRIVED: {
        "ru": Text(
            subject="card.coop: паевой взнос поступил, {coop}",
            intro="Ваш паевой взнос в кооператив «{coop}» поступил: {amount}.",
            advice="Баланс и история взносов — в разделе «Взносы» кабинета пайщика card.coop. "
                   "Если вы не вносили этот взнос, напишите в кооператив.",
        ),
        "en": Text(
            subject="card.coop: your share contribution arrived, {coop}",
            intro="Your share contribution to “{coop}” has arrived: {amount}.",
            advice="The balance and the history are under Contributions in your card.coop "
                   "dashboard. If you did not make this contribution, write to the cooperative.",
        ),
    },
    Kind.DIGEST: {
        "ru": Text(
            subject="card.coop: новые уведомления ({count})",
            intro="Новые уведомления в кабинете пайщика: {summary}.",
            advice="Все уведомления — в центре уведомлений card.coop. Частоту писем можно "
                   "изменить в настройках уведомлений.",
        ),
        "en": Text(
            subject="card.coop: new notifications ({count})",
            intro="New notifications in your dashboard: {summary}.",
            advice="Every notification is in the card.coop notification centre. You can change "
                   "how often these emails come in the notification settings.",
        ),
    },
}
