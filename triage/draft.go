package triage

import (
	"strings"

	"smista/mail"
)

// draftTemplates are the reply drafts per language and intent; {subject}
// is replaced by the email's subject, and draftReply adds the greeting and
// the sign-off.
var draftTemplates = map[string]map[Intent]string{
	"en": {
		IntentSupport: "thank you for your message about “{subject}”. We are looking into it and will get back to you as soon as possible.",
		IntentSales:   "thank you for your interest, and for your message about “{subject}”. We will send you the details you asked for shortly.",
		IntentBilling: "thank you for your message about “{subject}”. We are checking your account and will reply about the billing question shortly.",
		IntentLegal:   "we have received your message about “{subject}” and forwarded it to the responsible team, who will reply to you.",
		IntentSpam:    "we have received your message about “{subject}”.",
		IntentOther:   "thank you for your message about “{subject}”.",
	},
	"it": {
		IntentSupport: "grazie per il messaggio su “{subject}”. Stiamo verificando e ti risponderemo al più presto.",
		IntentSales:   "grazie per l'interesse e per il messaggio su “{subject}”. Ti invieremo a breve le informazioni richieste.",
		IntentBilling: "grazie per il messaggio su “{subject}”. Stiamo verificando la tua posizione amministrativa e ti risponderemo a breve.",
		IntentLegal:   "abbiamo ricevuto il messaggio su “{subject}” e l'abbiamo inoltrato al reparto competente, che ti risponderà.",
		IntentSpam:    "abbiamo ricevuto il messaggio su “{subject}”.",
		IntentOther:   "grazie per il messaggio su “{subject}”.",
	},
}

var draftFrame = map[string][3]string{ // greeting with name, greeting without, sign-off
	"en": {"Hi %s,", "Hello,", "Best regards,"},
	"it": {"Ciao %s,", "Buongiorno,", "Cordiali saluti,"},
}

// draftReply fills the template of the intent in the email's language: it
// greets the sender by first name and quotes the subject.
func draftReply(in Intent, lang string, from mail.Address, subject string) string {
	tpl, ok := draftTemplates[lang]
	if !ok {
		lang, tpl = "en", draftTemplates["en"]
	}
	body, ok := tpl[in]
	if !ok {
		body = tpl[IntentOther]
	}
	frame := draftFrame[lang]
	greet := frame[1]
	if name := firstName(from.Name); name != "" {
		greet = strings.Replace(frame[0], "%s", name, 1)
	}
	subj := strings.Join(strings.Fields(subject), " ")
	if subj == "" {
		subj = "(no subject)"
		if lang == "it" {
			subj = "(senza oggetto)"
		}
	}
	body = strings.Replace(body, "{subject}", subj, 1)
	return greet + "\n\n" + strings.ToUpper(body[:1]) + body[1:] + "\n\n" + frame[2] + "\n"
}

// firstName returns the given name of a display name: "Rossi, Mario" and
// "Mario Rossi" give "Mario"; an address or an empty name gives "".
func firstName(display string) string {
	d := strings.Trim(strings.TrimSpace(display), `"'`)
	if d == "" || strings.Contains(d, "@") {
		return ""
	}
	if last, first, ok := strings.Cut(d, ","); ok && strings.TrimSpace(first) != "" && !strings.Contains(last, " ") {
		d = first
	}
	f := strings.Fields(d)
	if len(f) == 0 {
		return ""
	}
	return strings.Trim(f[0], `"',.`)
}
