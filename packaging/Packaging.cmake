# CPack: issue 6
