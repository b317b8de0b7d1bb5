//! A stand-in for Cognito's hosted UI (managed login) and OAuth endpoints.
