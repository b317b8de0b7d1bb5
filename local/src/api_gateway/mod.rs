//! A stand-in for API Gateway's REST data plane in front of the deployed API.
