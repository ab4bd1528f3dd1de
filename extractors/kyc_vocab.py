"""The printed vocabulary of generated KYC forms: per language, the captions a form uses for each field.

``kyc_forms`` draws one caption per concept and document, so the forms word the same field the many ways real
onboarding forms do (and the rules are measured against captions nobody tuned them to). Kept apart from the
generator because it is data: a new synonym or language is added here without reading how forms are drawn.
"""

from __future__ import annotations

__all__ = ["KYC_LABELS", "NATIONS", "SCHEMES"]

# caption synonyms per concept and language; the generator picks one per document
KYC_LABELS: dict[str, dict[str, list[str]]] = {
    "title": {
        "en": ["Customer Onboarding Form", "Know Your Customer (KYC) Form", "Account Opening - Personal Details"],
        "de": ["Kundenstammblatt", "Identifizierung des Vertragspartners", "KYC-Formular"],
        "fr": ["Formulaire KYC", "Fiche de connaissance client", "Ouverture de compte"],
        "nl": ["Klantidentificatieformulier", "KYC-formulier", "Aanvraag rekening"],
        "it": ["Modulo di adeguata verifica", "Modulo KYC", "Apertura conto"],
        "es": ["Formulario de identificación del cliente", "Formulario KYC", "Apertura de cuenta"],
    },
    "personal": {
        "en": ["Personal details", "Applicant"],
        "de": ["Persönliche Angaben", "Angaben zur Person"],
        "fr": ["Informations personnelles", "Identité"],
        "nl": ["Persoonsgegevens", "Gegevens aanvrager"],
        "it": ["Dati personali", "Dati anagrafici"],
        "es": ["Datos personales", "Datos del titular"],
    },
    "contact": {
        "en": ["Contact details"],
        "de": ["Kontaktdaten"],
        "fr": ["Coordonnées"],
        "nl": ["Contactgegevens"],
        "it": ["Recapiti"],
        "es": ["Datos de contacto"],
    },
    "bank": {
        "en": ["Bank details", "Payment details"],
        "de": ["Bankverbindung"],
        "fr": ["Coordonnées bancaires"],
        "nl": ["Bankgegevens"],
        "it": ["Coordinate bancarie"],
        "es": ["Datos bancarios"],
    },
    "full_name": {
        "en": ["Full name", "Name of applicant", "Name"],
        "de": ["Vollständiger Name", "Name", "Vor- und Nachname"],
        "fr": ["Nom complet", "Nom et prénom", "Prénom et nom"],
        "nl": ["Volledige naam", "Naam", "Voor- en achternaam"],
        "it": ["Nome e cognome", "Nome completo"],
        "es": ["Nombre completo", "Nombre y apellidos"],
    },
    "surname": {
        "en": ["Surname", "Last name", "Family name"],
        "de": ["Nachname", "Familienname"],
        "fr": ["Nom de famille", "Nom d'usage"],
        "nl": ["Achternaam", "Geslachtsnaam"],
        "it": ["Cognome"],
        "es": ["Apellidos", "Primer apellido"],
    },
    "given": {
        "en": ["First name", "Given name(s)", "Forename"],
        "de": ["Vorname(n)", "Vorname"],
        "fr": ["Prénom(s)", "Prénom"],
        "nl": ["Voornaam", "Voornamen"],
        "it": ["Nome", "Nome/i"],
        "es": ["Nombre", "Nombre(s)"],
    },
    "date_of_birth": {
        "en": ["Date of birth", "DOB", "Birth date"],
        "de": ["Geburtsdatum", "Geboren am"],
        "fr": ["Date de naissance", "Né(e) le"],
        "nl": ["Geboortedatum", "Geboren op"],
        "it": ["Data di nascita", "Nato/a il"],
        "es": ["Fecha de nacimiento", "Nacido/a el"],
    },
    "birthplace": {
        "en": ["Place of birth"],
        "de": ["Geburtsort"],
        "fr": ["Lieu de naissance"],
        "nl": ["Geboorteplaats"],
        "it": ["Luogo di nascita"],
        "es": ["Lugar de nacimiento"],
    },
    "address": {
        "en": ["Residential address", "Address", "Home address"],
        "de": ["Anschrift", "Wohnanschrift", "Adresse"],
        "fr": ["Adresse", "Adresse de résidence", "Domicile"],
        "nl": ["Adres", "Woonadres"],
        "it": ["Indirizzo", "Residenza", "Indirizzo di residenza"],
        "es": ["Dirección", "Domicilio"],
    },
    "country": {
        "en": ["Country of residence", "Country"],
        "de": ["Wohnsitzland", "Land"],
        "fr": ["Pays de résidence", "Pays"],
        "nl": ["Land van verblijf", "Land"],
        "it": ["Paese di residenza", "Paese"],
        "es": ["País de residencia", "País"],
    },
    "email": {
        "en": ["Email", "E-mail address"],
        "de": ["E-Mail", "E-Mail-Adresse"],
        "fr": ["Courriel", "Adresse e-mail"],
        "nl": ["E-mailadres", "E-mail"],
        "it": ["Email", "Indirizzo e-mail"],
        "es": ["Correo electrónico", "Email"],
    },
    "phone": {
        "en": ["Phone", "Telephone", "Mobile"],
        "de": ["Telefon", "Mobil", "Telefonnummer"],
        "fr": ["Téléphone", "Portable"],
        "nl": ["Telefoon", "Telefoonnummer", "Mobiel"],
        "it": ["Telefono", "Cellulare"],
        "es": ["Teléfono", "Móvil"],
    },
    "passport_number": {
        "en": ["Passport number", "Passport No."],
        "de": ["Reisepassnummer", "Pass-Nr."],
        "fr": ["Numéro de passeport", "N° de passeport"],
        "nl": ["Paspoortnummer"],
        "it": ["Numero passaporto", "Passaporto n."],
        "es": ["Número de pasaporte", "Pasaporte nº"],
    },
    "issued": {
        "en": ["Date of issue", "Issued on"],
        "de": ["Ausgestellt am", "Ausstellungsdatum"],
        "fr": ["Délivré le", "Date de délivrance"],
        "nl": ["Afgegeven op", "Datum van afgifte"],
        "it": ["Rilasciato il", "Data di rilascio"],
        "es": ["Expedido el", "Fecha de expedición"],
    },
    "expiry": {
        "en": ["Expiry date", "Valid until"],
        "de": ["Gültig bis", "Ablaufdatum"],
        "fr": ["Date d'expiration", "Valable jusqu'au"],
        "nl": ["Geldig tot", "Vervaldatum"],
        "it": ["Data di scadenza", "Valido fino al"],
        "es": ["Fecha de caducidad", "Válido hasta"],
    },
    "iban": {
        "en": ["IBAN", "Bank account (IBAN)"],
        "de": ["IBAN", "Kontoverbindung (IBAN)"],
        "fr": ["IBAN", "Compte bancaire (IBAN)"],
        "nl": ["IBAN", "Rekeningnummer (IBAN)"],
        "it": ["IBAN", "Conto corrente (IBAN)"],
        "es": ["IBAN", "Cuenta bancaria (IBAN)"],
    },
    "customer": {
        "en": ["Customer no.", "Client reference"],
        "de": ["Kundennummer", "Kunden-Nr."],
        "fr": ["N° client", "Référence client"],
        "nl": ["Klantnummer"],
        "it": ["Codice cliente"],
        "es": ["Nº de cliente"],
    },
    "advisor": {
        "en": ["Relationship manager", "Advisor"],
        "de": ["Kundenberater", "Betreuer"],
        "fr": ["Conseiller", "Chargé de clientèle"],
        "nl": ["Adviseur", "Relatiebeheerder"],
        "it": ["Consulente", "Gestore"],
        "es": ["Asesor", "Gestor"],
    },
    "signed": {
        "en": ["Place, date", "Signed at"],
        "de": ["Ort, Datum", "Unterschrieben in"],
        "fr": ["Fait à", "Lieu et date"],
        "nl": ["Plaats, datum", "Getekend te"],
        "it": ["Luogo e data", "Firmato a"],
        "es": ["Lugar y fecha", "Firmado en"],
    },
    "signature": {
        "en": ["Signature of applicant"],
        "de": ["Unterschrift"],
        "fr": ["Signature"],
        "nl": ["Handtekening"],
        "it": ["Firma"],
        "es": ["Firma"],
    },
}

# language -> the nations its forms come from: (country as printed, id kind, the id's captions). The id kind is
# what ``kyc_forms`` draws; ``SCHEMES`` says which python-stdnum check it passes ("none": no public check digits).
# The last caption of a nation whose country has one usual id names no scheme ("National ID number"): a reader
# then has to take the scheme from the country the form names.
NATIONS: dict[str, list[tuple[str, str, list[str]]]] = {
    "en": [
        ("United Kingdom", "gb.nino", ["National Insurance number", "NI number", "National ID number"]),
        ("United States", "us.ssn", ["Social Security Number", "SSN", "National ID number"]),
    ],
    "de": [
        ("Deutschland", "de.idnr", ["Steuerliche Identifikationsnummer", "Steuer-ID", "Identifikationsnummer"]),
        ("Deutschland", "de.idcard", ["Personalausweisnummer", "Ausweisnummer"]),
    ],
    "fr": [("France", "fr.nir", ["Numéro de sécurité sociale", "N° de sécurité sociale (NIR)", "N° d'identification"])],
    "nl": [("Nederland", "nl.bsn", ["BSN", "Burgerservicenummer", "Identificatienummer"])],
    "it": [("Italia", "it.codicefiscale", ["Codice fiscale", "Numero identificativo"])],
    "es": [("España", "es.dni", ["DNI", "Número de DNI", "Número de identificación"])],
}
SCHEMES = {"gb.nino": "none", "de.idcard": "none"}  # other id kinds are their own python-stdnum scheme
