"""Identity: is the person on camera the candidate who enrolled a reference photo?"""
