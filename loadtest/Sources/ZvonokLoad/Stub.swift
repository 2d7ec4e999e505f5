print("zvonok-load: the load generator arrives with the messaging hub")
