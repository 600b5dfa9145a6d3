package console

import (
	"encoding/base64"
	"html/template"
	"net/http"

	"usercenter"
	"usercenter/core"
)

// signInForm is the data of signin.html.
type signInForm struct {
	Email, Next string
	Error       string
}

func (s *Server) signInPage(w http.ResponseWriter, r *http.Request) {
	next := localNext(r.URL.Query().Get("next"))
	if accountFrom(r.Context()) != nil {
		http.Redirect(w, r, next, http.StatusSeeOther)
		return
	}
	s.render(w, r, "signin.html", signInForm{Next: next})
}

// codeForm is the data of code.html, the second step of a sign-in with
// two-factor.
type codeForm struct {
	Ticket, Next string
	Error        string
}

// signIn handles both steps: email and password, then, for an account
// with two-factor, the ticket of the first step and a code.
func (s *Server) signIn(w http.ResponseWriter, r *http.Request) {
	next := localNext(r.PostFormValue("next"))
	creds := core.ConsoleCredentials{
		Email: r.PostFormValue("email"), Password: r.PostFormValue("password"),
		Ticket: r.PostFormValue("ticket"), Code: r.PostFormValue("code"),
		Addr: clientAddr(r),
	}
	res, err := s.svc.ConsoleSignIn(r.Context(), creds)
	if err != nil {
		status, msg := fromDomain(err)
		if status >= 500 {
			s.failErr(w, r, err)
			return
		}
		if e := usercenter.ErrorOf(err); creds.Ticket != "" && e.Code == usercenter.EUnauthenticated && e.Resource == "" {
			// A wrong code: the ticket still holds; ask again.
			s.renderStatus(w, r, status, "code.html", codeForm{Ticket: creds.Ticket, Next: next, Error: msg})
			return
		}
		s.renderStatus(w, r, status, "signin.html", signInForm{Email: creds.Email, Next: next, Error: msg})
		return
	}
	if res.ConsoleSignedIn == nil {
		s.render(w, r, "code.html", codeForm{Ticket: res.Ticket, Next: next})
		return
	}
	setSession(w, r, res.ConsoleSignedIn)
	http.Redirect(w, r, next, http.StatusSeeOther)
}

func (s *Server) signOut(w http.ResponseWriter, r *http.Request) {
	if c, err := r.Cookie(cookieName); err == nil && c.Value != "" {
		if err := s.svc.ConsoleSignOut(r.Context(), c.Value); err != nil {
			s.failErr(w, r, err)
			return
		}
	}
	clearSession(w, r)
	http.Redirect(w, r, "/console/signin", http.StatusSeeOther)
}

// linkForm is the data of link.html.
type linkForm struct {
	Token string
	Info  *core.ConsoleLinkInfo
	Email string
	Error string
}

func (s *Server) linkPage(w http.ResponseWriter, r *http.Request) {
	token := r.PathValue("token")
	info, err := s.svc.ConsoleLinkInfo(r.Context(), token)
	if err != nil {
		s.failErr(w, r, err)
		return
	}
	s.render(w, r, "link.html", linkForm{Token: token, Info: info})
}

func (s *Server) redeemLink(w http.ResponseWriter, r *http.Request) {
	token := r.PathValue("token")
	info, err := s.svc.ConsoleLinkInfo(r.Context(), token)
	if err != nil {
		s.failErr(w, r, err)
		return
	}
	form := linkForm{Token: token, Info: info, Email: r.PostFormValue("email")}
	password := r.PostFormValue("password")
	if password != r.PostFormValue("confirm") {
		form.Error = "The two passwords differ: type the same password twice."
		s.renderStatus(w, r, http.StatusBadRequest, "link.html", form)
		return
	}
	in, err := s.svc.RedeemConsoleLink(r.Context(), token, form.Email, password)
	if err != nil {
		status, msg := fromDomain(err)
		if status == http.StatusBadRequest || status == http.StatusConflict {
			form.Error = msg
			s.renderStatus(w, r, status, "link.html", form)
			return
		}
		s.failErr(w, r, err)
		return
	}
	setSession(w, r, in)
	http.Redirect(w, r, "/console/account/two-factor?welcome=1", http.StatusSeeOther)
}

// twoFactorForm is the data of twofactor.html.
type twoFactorForm struct {
	Welcome  bool
	Enrolled bool
	Enrol    *core.ConsoleTOTPEnrolment
	QR       template.URL
	Recovery []string
	Error    string
}

func (s *Server) twoFactorPage(w http.ResponseWriter, r *http.Request) {
	acc := accountFrom(r.Context())
	form := twoFactorForm{Welcome: r.URL.Query().Get("welcome") != "", Enrolled: acc.TwoFactor}
	if !acc.TwoFactor {
		if err := s.offerTOTP(r, &form); err != nil {
			s.failErr(w, r, err)
			return
		}
	}
	s.render(w, r, "twofactor.html", form)
}

// offerTOTP fills form with a new secret to enrol.
func (s *Server) offerTOTP(r *http.Request, form *twoFactorForm) error {
	enrol, err := s.svc.BeginConsoleTOTP(r.Context(), accountFrom(r.Context()))
	if err != nil {
		return err
	}
	form.Enrol = enrol
	// A data: URL the server made from its own PNG, so it is safe as is.
	form.QR = template.URL("data:image/png;base64," + base64.StdEncoding.EncodeToString(enrol.QRPNG))
	return nil
}

func (s *Server) enrolTwoFactor(w http.ResponseWriter, r *http.Request) {
	acc := accountFrom(r.Context())
	if acc.TwoFactor {
		s.fail(w, r, http.StatusConflict, "Two-factor is already on for this account; an admin can reset it.")
		return
	}
	codes, err := s.svc.ConfirmConsoleTOTP(r.Context(), acc.ID, r.PostFormValue("pending"), r.PostFormValue("code"))
	if err != nil {
		status, msg := fromDomain(err)
		if status != http.StatusBadRequest {
			s.failErr(w, r, err)
			return
		}
		form := twoFactorForm{Error: msg}
		if err := s.offerTOTP(r, &form); err != nil {
			s.failErr(w, r, err)
			return
		}
		s.renderStatus(w, r, status, "twofactor.html", form)
		return
	}
	s.render(w, r, "twofactor.html", twoFactorForm{Enrolled: true, Recovery: codes})
}
