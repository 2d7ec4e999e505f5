// The floor under a fan-out server at a paced rate: like the design notes' write_floor.c, but the writer sends MESSAGES per second,
// each as MEMBERS small write()s to consecutive connections (one chat's members), sleeping between messages, as a
// hub does under light load. A forked reader drains with epoll and sleeps when there is nothing, as clients do.
//   cc -O2 -o paced_write_floor loadtest/floor/paced_write_floor.c && ./paced_write_floor CONNECTIONS MEMBERS MESSAGES_PER_S SECONDS
// Port 18098 on 127.0.0.1 only; stops by itself.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/epoll.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
static double cpu(void){struct rusage r;getrusage(RUSAGE_SELF,&r);return r.ru_utime.tv_sec+r.ru_stime.tv_sec+(r.ru_utime.tv_usec+r.ru_stime.tv_usec)/1e6;}
static double now(void){struct timespec t;clock_gettime(CLOCK_MONOTONIC,&t);return t.tv_sec+t.tv_nsec/1e9;}
int main(int argc,char**argv){
  int n=argc>1?atoi(argv[1]):1000, members=argc>2?atoi(argv[2]):30; double rate=argc>3?atof(argv[3]):1000, seconds=argc>4?atof(argv[4]):20;
  int ls=socket(AF_INET,SOCK_STREAM,0); struct sockaddr_in a={.sin_family=AF_INET,.sin_port=htons(18098)}; a.sin_addr.s_addr=htonl(0x7f000001);
  int one=1; setsockopt(ls,SOL_SOCKET,SO_REUSEADDR,&one,sizeof one);
  if(bind(ls,(void*)&a,sizeof a)||listen(ls,4096)){perror("bind");return 1;}
  int *cl=malloc(n*sizeof(int)),*sv=malloc(n*sizeof(int));
  for(int i=0;i<n;i++){cl[i]=socket(AF_INET,SOCK_STREAM,0); if(connect(cl[i],(void*)&a,sizeof a)){perror("connect");return 1;} sv[i]=accept(ls,0,0);
    setsockopt(sv[i],IPPROTO_TCP,TCP_NODELAY,&one,sizeof one);}
  long messages=(long)(rate*seconds), total=messages*members;
  pid_t p=fork();
  if(p==0){
    int ep=epoll_create1(0); for(int i=0;i<n;i++){struct epoll_event e={.events=EPOLLIN,.data.fd=cl[i]};epoll_ctl(ep,EPOLL_CTL_ADD,cl[i],&e);}
    char buf[65536]; long got=0, want=total*110; struct epoll_event ev[256];
    while(got<want){int k=epoll_wait(ep,ev,256,3000); if(k<=0)break; for(int j=0;j<k;j++){ssize_t r=read(ev[j].data.fd,buf,sizeof buf); if(r>0)got+=r;}}
    _exit(0);}
  char frame[110]; memset(frame,'x',sizeof frame);
  double c0=cpu(),t0=now(); int next=0;
  for(long m=0;m<messages;m++){
    double due=t0+m/rate, wait=due-now();
    if(wait>0){struct timespec s={(time_t)wait,(long)((wait-(time_t)wait)*1e9)}; nanosleep(&s,0);}
    for(int k=0;k<members;k++){ if(write(sv[next],frame,110)<0){perror("write");return 1;} next=(next+1)%n; }
  }
  double c1=cpu(),t1=now(); int st; waitpid(p,&st,0);
  printf("connections=%d members=%d messages_per_s=%.0f seconds=%.1f writer_cpu_us_per_delivery=%.3f writer_cpu_us_per_message=%.1f\n",
    n,members,messages/(t1-t0),t1-t0,(c1-c0)/total*1e6,(c1-c0)/messages*1e6);
  return 0;}
