"""The HTTP edge: Powertools routers, one module per area, included by the API functions.

Merchant API (functions/merchant_api) includes ``merchant_*`` routers; the public function
(functions/claim) includes ``public_*`` routers. Routes parse and validate, call one service,
and shape the answer; the services hold the rules.
"""
